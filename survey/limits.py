"""The request body limit for bodies sent without Content-Length (chunked transfer encoding).

Werkzeug judges ``MAX_CONTENT_LENGTH`` on the Content-Length header; a chunked body has
none, and reading it stops quietly at the limit, so a record padded past 1 MiB was cut
and parsed as if whole. Here such a body is read up to one byte past the limit before any
view sees it: over the limit is a 413 and nothing is stored; under it, the body is handed
on with its length known.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import abort, current_app, request

__all__ = ["body_limit", "apply_view_limit", "refuse_oversized_stream"]


def body_limit(config_key: str) -> Callable:
    """Let ``view`` take bodies up to ``config[config_key]`` bytes instead of MAX_CONTENT_LENGTH.

    The limit must hold before any hook reads the body (the CSRF check reads the form), so
    the view is only marked here and ``apply_view_limit`` sets it first thing.
    """
    def mark(view: Callable) -> Callable:
        view.body_limit = config_key  # type: ignore[attr-defined]  # kept by functools.wraps
        return view
    return mark


def apply_view_limit() -> None:
    """The body limit of the view this request goes to, if it names its own."""
    view = current_app.view_functions.get(request.endpoint or "")
    key = getattr(view, "body_limit", None)
    if key:
        request.max_content_length = current_app.config[key]


def refuse_oversized_stream() -> None:
    """413 for a streamed body longer than the limit; otherwise give it a Content-Length."""
    environ = request.environ
    if request.content_length is not None or not environ.get("wsgi.input_terminated"):
        return
    limit = request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]
    body = environ["wsgi.input"].read(limit + 1)
    environ["wsgi.input"] = io.BytesIO(body[:limit])
    environ["CONTENT_LENGTH"] = str(min(len(body), limit))
    if len(body) > limit:
        abort(413)
