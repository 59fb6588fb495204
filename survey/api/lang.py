"""The language of API messages: ?lang=, then Accept-Language, then the configured default."""

from flask import current_app, request

from ..i18n import LANGS


def api_lang() -> str:
    """Validation messages follow the client's language so a form can show them as they are."""
    lang = request.args.get("lang")
    if lang in LANGS:
        return lang
    best = request.accept_languages.best_match(LANGS)
    return best or current_app.config["SURVEY_DEFAULT_LANG"]
