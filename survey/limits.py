"""The request body limit for bodies sent without Content-Length (chunked transfer encoding).

Werkzeug judges ``MAX_CONTENT_LENGTH`` on the Content-Length header; a chunked body has
none, and reading it stops quietly at the limit, so a record padded past 1 MiB was cut
and parsed as if whole. Here such a body is read up to one byte past the limit before any
view sees it: over the limit is a 413 and nothing is stored; under it, the body is handed
on with its length known.
"""

from __future__ import annotations

import io

from flask import abort, current_app, request

__all__ = ["refuse_oversized_stream"]


def refuse_oversized_stream() -> None:
    """413 for a streamed body longer than the limit; otherwise give it a Content-Length."""
    environ = request.environ
    if request.content_length is not None or not environ.get("wsgi.input_terminated"):
        return
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    body = environ["wsgi.input"].read(limit + 1)
    environ["wsgi.input"] = io.BytesIO(body[:limit])
    environ["CONTENT_LENGTH"] = str(min(len(body), limit))
    if len(body) > limit:
        abort(413)
