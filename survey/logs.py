"""Logs free of personal data: requests are logged by route, never by path or query string.

A path can name a person (``/accounts/user3/reset``) and a query string can hold a search
or a filter; neither belongs in a log kept for months. The app records the matched route
template (``/accounts/<username>/reset``) in the WSGI environ; gunicorn's access log prints
that instead of the path, and its error log cuts every request target it would print down
to the first path segment, with no query string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from flask import Flask, request
from gunicorn.glogging import Logger

__all__ = ["ROUTE", "RedactingLogger", "install", "redact_target"]

ROUTE = "survey.route"
_TARGET = re.compile(r"(?:([a-z][a-z0-9+.-]*://[^/\s'\"]*)|(?<![\w.:]))(/[^\s'\"]*)", re.IGNORECASE)


def redact_target(target: str) -> str:
    """A request target as a log may keep it: its first path segment only ("/accounts/…")."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    head, sep, rest = path.lstrip("/").partition("/")
    return "/" + head + ("/…" if sep and rest else sep)


def _route() -> None:
    """Remember which route answers, for the access log (unmatched paths: redacted)."""
    rule = request.url_rule
    request.environ[ROUTE] = rule.rule if rule is not None else redact_target(request.path)


def install(app: Flask) -> None:
    """Record each request's route first thing, and log exceptions by route, not by path."""
    app.before_request_funcs.setdefault(None, []).insert(0, _route)

    def log_exception(exc_info: Any) -> None:
        route = request.environ.get(ROUTE) or redact_target(request.path)
        app.logger.error("Exception on %s [%s]", route, request.method, exc_info=exc_info)

    app.log_exception = log_exception  # type: ignore[method-assign]


# Atoms made from the request line and status alone; gunicorn's own ``atoms`` also copies every
# request header, response header and environ entry into the dict, a tenth of a submission's CPU.
_PLAIN_ATOMS = frozenset("hlmsBbMDTLHUqfr")


@lru_cache(maxsize=8)
def _format_atoms(log_format: str) -> frozenset[str]:
    """The atoms a gunicorn access log format names (``%(h)s``, ``%({x-id}i)s``, ...)."""
    return frozenset(re.findall(r"%\(([^)]+)\)", log_format))


def _scrub(value: Any) -> Any:
    if isinstance(value, str) and ("/" in value or "?" in value):
        return _TARGET.sub(lambda m: (m.group(1) or "") + redact_target(m.group(2)), value)
    return value


def _plain_atoms(resp, environ: dict, request_time) -> dict[str, Any]:
    """gunicorn's atoms that need no header or environ copy, computed as gunicorn does."""
    status = resp.status
    if isinstance(status, str):
        status = status.split(None, 1)[0]
    sent = getattr(resp, "sent", None)
    seconds, micros = request_time.seconds, request_time.microseconds
    return {"h": environ.get("REMOTE_ADDR", "-"), "l": "-", "m": environ.get("REQUEST_METHOD"), "s": status,
            "B": sent, "b": "-" if sent is None else str(sent), "H": environ.get("SERVER_PROTOCOL"),
            "T": seconds, "M": seconds * 1000 + micros // 1000, "D": seconds * 1_000_000 + micros,
            "L": f"{seconds}.{micros:06d}"}


class RedactingLogger(Logger):
    """gunicorn's logger, printing route templates and no query strings or request targets."""

    def atoms(self, resp, req, environ, request_time):
        if _format_atoms(self.cfg.access_log_format) <= _PLAIN_ATOMS:
            atoms = _plain_atoms(resp, environ, request_time)
        else:
            atoms = super().atoms(resp, req, environ, request_time)
        route = environ.get(ROUTE) or redact_target(environ.get("PATH_INFO") or "/")
        atoms.update({"U": route, "q": "-", "f": "-",
                      "r": f"{environ.get('REQUEST_METHOD')} {route} {environ.get('SERVER_PROTOCOL')}"})
        return atoms

    def _log_scrubbed(self, level: str, msg: Any, args: tuple, kwargs: dict) -> None:
        getattr(super(), level)(_scrub(msg), *map(_scrub, args), **kwargs)

    def critical(self, msg, *args, **kwargs):
        self._log_scrubbed("critical", msg, args, kwargs)

    def error(self, msg, *args, **kwargs):
        self._log_scrubbed("error", msg, args, kwargs)

    def warning(self, msg, *args, **kwargs):
        self._log_scrubbed("warning", msg, args, kwargs)

    def exception(self, msg, *args, **kwargs):
        self._log_scrubbed("exception", msg, args, kwargs)
