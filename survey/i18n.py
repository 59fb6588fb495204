"""Interface messages in Vietnamese (the default) and English: one gettext catalogue per
language, read through Flask-Babel, and numbers and dates written by Babel.

The catalogues are ``survey/translations/<lang>/LC_MESSAGES/messages.po``; their msgids are
the message keys that code and templates ask for (``_("saved", name=...)``), placeholders
are ``%(name)s``. The compiled ``messages.mo`` beside each is committed, so every install and
image has it; ``make translations`` recompiles after an edit, and a test fails when a ``.mo``
no longer matches its ``.po``. Form labels stay in the form definitions: they are data.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import flask_babel
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import Translations
from flask import Flask, current_app, g, has_request_context, request, session

__all__ = [
    "CLIENT_KEYS",
    "LANGS",
    "TRANSLATIONS",
    "asked_lang",
    "client_messages",
    "current_lang",
    "day",
    "gettext",
    "init_app",
    "ngettext",
    "number",
    "template",
    "translate",
]

LANGS = ("vi", "en")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

# Messages the form's script shows; the page hands them over in its own language.
CLIENT_KEYS = ("saved_local", "sent_ok", "rejected", "state_waiting", "state_rejected", "state_sent",
               "open_record", "nothing_yet", "retry_at", "save_failed", "editing", "error_summary")

babel = flask_babel.Babel()


def init_app(app: Flask) -> None:
    """Flask-Babel on ``app``: the locale is the request's language (``current_lang``)."""
    babel.init_app(app, locale_selector=current_lang, default_translation_directories=str(TRANSLATIONS))


def asked_lang() -> str | None:
    """The request's ?lang=, if any (asked by membership first: a missing key raises inside
    MultiDict.get, on every request that names no language)."""
    args = request.args
    return args.get("lang") if "lang" in args else None


def current_lang() -> str:
    """The request's language: ?lang=, then the session, then the configured default."""
    if not has_request_context():
        return "vi"
    if "lang" in g:
        return g.lang
    lang = asked_lang() or session.get("lang")
    if lang not in LANGS:
        lang = current_app.config["SURVEY_DEFAULT_LANG"]
    g.lang = lang
    return lang


@functools.cache
def _catalogue(lang: str) -> Translations:
    return Translations.load(str(TRANSLATIONS), [lang], domain="messages")


def translate(key: str, lang: str, **params: object) -> str:
    """The message ``key`` in ``lang``, outside any request too (files, schemas, the CLI)."""
    text = _catalogue(lang).gettext(key)
    return text % params if params else text


def gettext(key: str, lang: str | None = None, **params: object) -> str:
    """The message ``key`` in the request's language (or ``lang``), with ``params`` filled in."""
    if lang is None and has_request_context():
        return flask_babel.gettext(key, **params)
    return translate(key, lang or current_lang(), **params)


def ngettext(key: str, amount: int, /, **params: object) -> str:
    """The message ``key`` for a count: ``key + "_one"`` when ``amount`` is 1 (English needs it)."""
    one = f"{key}_one"
    singular = amount == 1 and _catalogue(current_lang()).gettext(one) != one  # a msgid unknown comes back as is
    return gettext(one if singular else key, **params)


def template(key: str, lang: str | None = None) -> str:
    """The message ``key`` with its placeholders as ``str.format``, marshmallow and the scripts fill them: {name}."""
    return re.sub(r"%\((\w+)\)s", r"{\1}", gettext(key, lang)).replace("%%", "%")


def client_messages() -> dict[str, str]:
    """The script's messages in the request's language, placeholders as the script fills them: {name}."""
    return {key: template(key) for key in CLIENT_KEYS}


def number(value: float | None, lang: str | None = None) -> str:
    """A figure as people write it: 12.345 and 45,6 in Vietnamese, 12,345 and 45.6 in English."""
    if value is None:
        return "—"
    pattern = "#,##0.0" if isinstance(value, float) else "#,##0"
    return format_decimal(value, pattern, locale=lang or current_lang())


def day(value: dt.date, lang: str | None = None) -> str:
    """A date as dd/mm/yyyy, the way both languages write it on this service's forms."""
    return format_date(value, "dd/MM/yyyy", locale=lang or current_lang())
