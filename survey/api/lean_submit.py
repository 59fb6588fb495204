"""Household submissions answered beneath Flask: the campaign's most frequent request, at a
fraction of what the framework costs it.

Every household an officer records arrives as one ``POST /api/v1/households``. Through Flask it
pays for a request context, the app's six before-request hooks, three after-request hooks, a
session, a Response object and its header machinery: measured under load, about a third of a
submission's CPU, the part that held submissions near 30% of a bare Flask endpoint's rate.

``LeanSubmissions`` sits in front of the app and answers that request itself when it can
answer it in full, with the same checks and the same answer the view gives
(``api.households.create_household``):

- credentials: a bearer token (and no cookie), or the session cookie with the session's CSRF
  token (and no Authorization header): what API clients and the form's outbox send;
- a body sent as ``application/json`` with a Content-Length within ``MAX_CONTENT_LENGTH``, and
  no query string but the outbox's ``?lang=`` (when the session already holds that language);
- a record that validates and is stored (201) or was already stored the same (200).

Anything else goes to the app, with the body replayed: no or stale credentials, a password
to change, a query or type it does not take as is. Once it has read, validated or tried to
store the record, whatever it met (a body that is not a JSON object, a record that fails
validation, a conflict, a commune outside the officer's area, a full disk) is handed to the
app's view, which raises it as its own (``raise_what_it_met``): the app answers it as it
always has, its messages in one place, and nothing is tried twice.

One difference from the view's answer, kept on purpose: a lean answer does not re-issue the
session cookie (Flask renews a permanent session's cookie on every request). The cookie's
fourteen days run from the last page or ``GET /api/v1/session``, which each sync pass of the
outbox makes before it sends anything, so a working phone's session is renewed all the same,
and no cookie attribute is worked out twice.
"""

from __future__ import annotations

import hmac
import io
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import orjson
from flask import Flask
from flask_compress.flask_compress import _choose_algorithm, _compress_data  # pinned 1.25's own, see _algorithm
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from werkzeug.http import parse_cookie

from ..auth import session_user
from ..campaign import Campaign
from ..delivery import compress
from ..headers import EVERY_ANSWER
from ..households.service import submit
from ..i18n import LANGS
from ..logs import ROUTE
from ..storage.postgres import connection
from ..storage.postgres.url import database_url
from ..users import User
from .body import parse_json_object
from .lang import accepted_lang

__all__ = ["LeanSubmissions", "PATH", "RAISED", "raise_what_it_met"]

PATH = "/api/v1/households"
# The environ key under which the app's view finds what the lean path met reading, validating
# or storing the record (an invalid record, a conflict, a full disk), to raise it as its own.
RAISED = "survey.lean_submit.raised"

_SIGNED_KEPT = 1024  # verified cookies and CSRF tokens kept per worker: about one per phone
Answer = tuple[str, list[tuple[str, str]], bytes]
StartResponse = Callable[..., Any]


class LeanSubmissions:
    """WSGI middleware: ``POST /api/v1/households`` answered without the framework when it can
    be answered in full; every other request, and any it cannot settle, goes to ``wsgi_app``."""

    def __init__(self, app: Flask, wsgi_app: Callable[[dict, StartResponse], Iterable[bytes]]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.camp: Campaign = app.extensions["survey"]
        self.pooled = bool(database_url(app.config))
        self._csrf: tuple[str, URLSafeTimedSerializer] | None = None
        self._signed: dict[tuple[URLSafeTimedSerializer, str], tuple[Any, int]] = {}

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST" or environ.get("PATH_INFO") != PATH:
            return self.wsgi_app(environ, start_response)
        body = self._body(environ)
        answer = self._answer(environ, body) if body is not None else None
        if answer is None:
            if body is not None:  # the app reads the body again from the start
                environ["wsgi.input"] = io.BytesIO(body)
            return self.wsgi_app(environ, start_response)
        status, headers, out = answer
        environ[ROUTE] = PATH  # the access log names the route, as for the app's answers
        start_response(status, headers)
        return [out]

    def _body(self, environ: dict) -> bytes | None:
        """The JSON body, when its type and declared length are ones the view takes as sent."""
        length = environ.get("CONTENT_LENGTH", "")
        if environ.get("CONTENT_TYPE") != "application/json" or not length.isdigit():
            return None
        size = int(length)
        if not 0 < size <= self.app.config["MAX_CONTENT_LENGTH"]:
            return None
        body = environ["wsgi.input"].read(size)
        environ["wsgi.input"] = io.BytesIO(body)
        return body if len(body) == size else None

    def _answer(self, environ: dict, body: bytes) -> Answer | None:
        """201 or 200 with the stored record, or None for the app to answer."""
        lang = _query_lang(environ.get("QUERY_STRING", ""))
        if lang is None:
            return None
        if self.pooled:
            connection.hold()
        try:
            found = self._user(environ, lang)
            if found is None:
                return None
            user, via_cookie = found
            try:
                data = parse_json_object(body)
                schema = self.camp.schemas.schema(lang or self._header_lang(environ))
                stored, created = submit(self.camp, user, schema.load(data))
            except Exception as exc:  # the view raises it: answered as if met there, nothing done twice
                environ[RAISED] = exc
                return None
        finally:
            if self.pooled:
                connection.release()
        return self._stored(environ, stored, created, via_cookie)

    def _user(self, environ: dict, lang: str) -> tuple[User, bool] | None:
        """(user, came with the session cookie), for credentials the app would accept as they
        are; None for anything it must judge itself (or that would change the session)."""
        header = environ.get("HTTP_AUTHORIZATION")
        cookie = environ.get("HTTP_COOKIE")
        if header is not None:
            if cookie is not None or lang or not header.startswith("Bearer "):
                return None
            user = self.camp.users.by_token(header[7:].strip())
        elif cookie is not None:
            data = self._session(cookie)
            if not data or (lang and data.get("lang") != lang) or not self._csrf_valid(environ, data):
                return None
            user = session_user(self.camp, data)
        else:
            return None
        if user is None or user.must_change:
            return None
        return user, header is None

    def _session(self, cookie: str) -> dict | None:
        """The session the cookie carries, checked as Flask opens it (signature and age)."""
        iface = self.app.session_interface
        serializer = iface.get_signing_serializer(self.app)  # type: ignore[attr-defined]
        value = parse_cookie(cookie).get(self.app.config["SESSION_COOKIE_NAME"])
        if serializer is None or not value:
            return None
        try:
            return self._verified(serializer, value, int(self.app.permanent_session_lifetime.total_seconds()))
        except BadData:
            return None

    def _csrf_valid(self, environ: dict, session: dict) -> bool:
        """Flask-WTF's check of the request's token against the session's, as
        ``auth.protect_session_writes`` makes it (header only: a JSON body has no form)."""
        config = self.app.config
        if config["WTF_CSRF_SSL_STRICT"] and environ.get("wsgi.url_scheme") == "https":
            return False  # the Referer check: the app's
        field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        token = next(filter(None, (environ.get(_environ_key(name)) for name in config["WTF_CSRF_HEADERS"])), None)
        if not token or field not in session:
            return False
        try:
            signed = self._verified(self._csrf_serializer(), token, config.get("WTF_CSRF_TIME_LIMIT", 3600))
        except BadData:
            return False
        return isinstance(signed, str) and hmac.compare_digest(session[field], signed)

    def _verified(self, serializer: URLSafeTimedSerializer, signed: str, max_age: int | None) -> Any:
        """What ``serializer`` signed in ``signed``, checked as its ``loads(signed, max_age)``
        checks it: the signature, then the age. A string that verified once verifies again under
        the same serializer (the same keys), so the result is kept and only the age is checked
        again: a phone's cookie and CSRF token are not decoded and HMAC'd on each submission.
        Raises itsdangerous' BadData."""
        key = (serializer, signed)
        found = self._signed.get(key)
        if found is None:
            value, when = serializer.loads(signed, return_timestamp=True)
            if len(self._signed) >= _SIGNED_KEPT:
                self._signed.clear()
            found = self._signed[key] = (value, int(when.timestamp()))
        if max_age is not None:
            age = int(time.time()) - found[1]
            if not 0 <= age <= max_age:
                raise SignatureExpired(f"signature age {age} is not within 0 to {max_age} seconds")
        return found[0]

    def _csrf_serializer(self) -> URLSafeTimedSerializer:
        secret = self.app.config.get("WTF_CSRF_SECRET_KEY") or self.app.secret_key
        if self._csrf is None or self._csrf[0] != secret:
            self._csrf = (secret, URLSafeTimedSerializer(secret, salt="wtf-csrf-token"))
        return self._csrf[1]

    def _header_lang(self, environ: dict) -> str:
        return accepted_lang(environ.get("HTTP_ACCEPT_LANGUAGE", "")) or self.app.config["SURVEY_DEFAULT_LANG"]

    def _stored(self, environ: dict, stored: dict, created: bool, via_cookie: bool) -> Answer:
        """The view's answer, with the headers the app's after-request hooks give it."""
        out = orjson.dumps(stored)
        headers = [("Content-Type", "application/json"), ("Location", f"{PATH}/{stored['id']}")]
        algorithm = None
        if len(out) >= self.app.config["COMPRESS_MIN_SIZE"]:
            algorithm = _algorithm(compress.enabled_algorithms, environ.get("HTTP_ACCEPT_ENCODING", ""))
        if algorithm is not None:
            out = _compress_data(self.app, out, algorithm)
            headers.append(("Content-Encoding", algorithm))
        headers.append(("Content-Length", str(len(out))))
        headers.append(("Vary", "Accept-Encoding, Cookie" if via_cookie else "Accept-Encoding"))
        headers.extend(_EVERY_ANSWER)
        return ("201 CREATED" if created else "200 OK"), headers, out


def _query_lang(query: str) -> str | None:
    """"" for no query, the language of a lone ``lang=vi``, None for any other query."""
    if not query:
        return ""
    name, _, value = query.partition("=")
    return value if name == "lang" and value in LANGS else None


@lru_cache(maxsize=64)
def _algorithm(algorithms: tuple[str, ...], accept_encoding: str) -> str | None:
    """Flask-Compress's choice for a header, made once per distinct header a worker sees (its
    private helpers, of the pinned release: the compression tests in tests/api/test_lean_submit.py
    compare the lean answer with the app's hook, so a release that changes them is caught)."""
    return _choose_algorithm(algorithms, accept_encoding)


@lru_cache(maxsize=8)
def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


# The app's own list (the after-request hook's), and the API's no-store
_EVERY_ANSWER = [(name, value) for _, name, value in EVERY_ANSWER] + [("Cache-Control", "no-store")]


def raise_what_it_met(environ: dict) -> None:
    """In the view, before anything else: raise what the lean path met with this request, so
    the app answers it as if the view had met it (and does not store the record again)."""
    raised = environ.pop(RAISED, None)
    if raised is not None:
        raise raised
