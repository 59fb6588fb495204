"""Error answers: JSON on /api/ (and for token clients), an HTML page elsewhere."""

from __future__ import annotations

from flask import Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .i18n import gettext
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


def _http_error(exc: HTTPException):
    status = exc.code or 500
    message = _MESSAGES.get(status) or (exc.description or exc.name)
    if isinstance(exc, CSRFError):
        message = "missing or wrong CSRF token: reload the page and submit again"
    if _wants_json():
        return _with_allow(json_error(status, message), exc)
    key = {403: "forbidden", 404: "not_found", 400: "csrf" if isinstance(exc, CSRFError) else None}.get(status)
    text = gettext(key) if key else message
    return _with_allow(Response(render_template("error.html", status=status, message=text), status,
                                mimetype="text/html"), exc)


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
