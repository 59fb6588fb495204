"""Light on a weak link: compressed answers, static files cached for a year, a favicon.

Compression is Flask-Compress's (brotli when the client asks for it, else gzip). A static
file fetched under the current asset version (``?v=``, a hash of the files' content) never
changes at that URL, so the browser may keep it a year without asking again; any other
static URL is revalidated.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request, send_from_directory
from flask_compress import Compress

from .assets import OFFLINE_ASSETS, asset_version

__all__ = ["init_app", "IMMUTABLE"]

IMMUTABLE = "public, max-age=31536000, immutable"
_FAVICON = "icons/icon-192.png"
compress = Compress()


def init_app(app: Flask) -> None:
    """Compress text answers and mark versioned static files immutable."""
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)  # brotli's default 11 costs CPU on every page
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
        "application/manifest+json", "image/svg+xml", "text/csv", "text/plain"])
    app.config["COMPRESS_REGISTER"] = False  # registered below, behind the size check
    compress.init_app(app)
    app.after_request(_compress)
    app.after_request(_cache_static)
    app.add_url_rule("/favicon.ico", "favicon", _favicon)


def _compress(response: Response) -> Response:
    """Flask-Compress, asked only about bodies it might compress: one shorter than
    COMPRESS_MIN_SIZE (a stored household) only gains the Vary it would add, without the
    Accept-Encoding and mimetype parsing behind that answer."""
    length = response.content_length
    if length is not None and length < current_app.config["COMPRESS_MIN_SIZE"]:
        vary = response.headers.get("Vary")
        if not vary:
            response.headers["Vary"] = "Accept-Encoding"
        elif "accept-encoding" not in vary.lower():
            response.headers["Vary"] = f"{vary}, Accept-Encoding"
        return response
    return compress.after_request(response)


def _cache_static(response: Response) -> Response:
    """A year, immutable, for a static file asked for under the current content version."""
    if (request.endpoint == "static" and response.status_code == 200
            and request.view_args.get("filename") in OFFLINE_ASSETS
            and request.args.get("v") == asset_version()):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def _favicon() -> Response:
    """What browsers ask for by themselves; the app icon, so no page logs a 404."""
    response = send_from_directory(str(current_app.static_folder), _FAVICON, max_age=86400)
    response.mimetype = "image/png"
    return response
