"""What makes the form work with no signal: the service worker script and the web app manifest."""

from __future__ import annotations

from flask import Response, current_app, render_template

from ..assets import asset_url, asset_version, offline_urls
from ..campaign import campaign
from ..i18n import current_lang, gettext
from . import bp


@bp.get("/sw.js")
def service_worker() -> Response:
    """Served from the root so its scope covers /form; its text changes with every asset version."""
    body = render_template("sw.js", version=asset_version(), assets=offline_urls())
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """Lets an officer add the form to the home screen and open it like an app."""
    lang = current_lang()
    data = {"name": gettext("app_name"), "short_name": "Bluezone", "lang": lang,
            "description": campaign().form.title[lang], "start_url": "/form", "scope": "/",
            "display": "standalone", "background_color": "#f4f6f8", "theme_color": "#0b5cab",
            "icons": [{"src": asset_url(f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
                       "type": "image/png", "purpose": "any"} for size in (192, 512)]}
    return current_app.response_class(current_app.json.dumps(data), mimetype="application/manifest+json")
