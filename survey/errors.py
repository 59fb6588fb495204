"""Error answers, in one place: JSON on /api/ (and for token clients), an HTML page elsewhere.

HTTP errors (``abort``), the domain's refusals (``problems.py``), a rejected filter
(``ScopeError``), invalid input (marshmallow's ``ValidationError``) and storage failures
each map here to one status; views raise and do not build error answers themselves.
"""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from .i18n import gettext
from .problems import BadInput, Conflict, NoOpenFlag, NotFound, Refused
from .scope import ScopeError
from .storage import StorageUnavailable

__all__ = ["json_error", "register"]

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "body_too_large", 415: "unsupported_media_type",
          422: "validation_failed", 429: "too_many_requests", 503: "unavailable"}


def json_error(status: int, message: str, **extra: object) -> Response:
    """A JSON error body: a machine code, a human message, and any details."""
    body = {"error": _CODES.get(status, "error"), "message": message, **extra}
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="survey"'
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or g.get("via_token", False) or request.path.endswith(".json")


_MESSAGES = {401: "authentication required: log in or send Authorization: Bearer <token>",
             403: "this is outside your role or area",
             413: "the request body is larger than the 1 MB limit"}


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    message, page = _MESSAGES.get(status) or (exc.description or exc.name), None
    if isinstance(exc, CSRFError):
        message, page = "missing or wrong CSRF token: reload the page and submit again", gettext("csrf")
    return _with_allow(_answer(status, message, page), exc)


def _answer(status: int, message: str, page: str | None = None, **extra: object) -> Response:
    """JSON for the API and token clients; for a browser the error page in its language."""
    if _wants_json():
        return json_error(status, message, **extra)
    key = {403: "forbidden", 404: "not_found"}.get(status)
    text = page or (gettext(key) if key else message)
    return Response(render_template("error.html", status=status, message=text), status, mimetype="text/html")


# The domain's refusals and the status each answers with.
_DOMAIN: dict[type[Exception], int] = {BadInput: 400, Refused: 403, NotFound: 404, NoOpenFlag: 409}


def _domain_error(exc: Exception) -> Response:
    status = next(code for kind, code in _DOMAIN.items() if isinstance(exc, kind))
    page_key = getattr(exc, "page_key", None)
    return _answer(status, str(exc), gettext(page_key) if page_key else None)


def _scope_error(exc: ScopeError) -> Response:
    return _answer(exc.status, exc.message)


def _conflict(exc: Conflict) -> Response:
    return _answer(409, "a different record was already stored under this id", id=exc.existing.get("id"))


def _invalid(exc: ValidationError) -> Response:
    return _answer(422, "the request has invalid fields", fields=exc.messages)


def _with_allow(response: Response, exc: HTTPException) -> Response:
    """A 405 keeps werkzeug's Allow header: clients learn which methods the URL takes."""
    for name, value in exc.get_headers():
        if name == "Allow":
            response.headers["Allow"] = value
    return response


def _storage_error(exc: StorageUnavailable):
    message = f"storage unavailable, nothing was saved: {exc}"
    if _wants_json():
        return json_error(503, message)
    return render_template("error.html", status=503, message=message), 503


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StorageUnavailable, _storage_error)
    for kind in _DOMAIN:
        app.register_error_handler(kind, _domain_error)
    app.register_error_handler(ScopeError, _scope_error)
    app.register_error_handler(Conflict, _conflict)
    app.register_error_handler(ValidationError, _invalid)
