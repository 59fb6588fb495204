"""The language of API messages: ?lang=, then Accept-Language, then the configured default."""

from functools import lru_cache

from flask import current_app, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from ..i18n import LANGS, asked_lang


def api_lang() -> str:
    """Validation messages follow the client's language so a form can show them as they are."""
    lang = asked_lang()
    if lang in LANGS:
        return lang
    # the environ, not request.headers: a header missing there costs a raised KeyError per request
    best = accepted_lang(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""))
    return best or current_app.config["SURVEY_DEFAULT_LANG"]


@lru_cache(maxsize=256)
def accepted_lang(header: str) -> str | None:
    """The service language an Accept-Language header prefers, if any (a phone sends the same
    header with every submission: parsed once per worker, not per request)."""
    return parse_accept_header(header, LanguageAccept).best_match(LANGS)
