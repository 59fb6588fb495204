"""What makes the form work with no signal: the service worker script and the web app manifest."""

from __future__ import annotations

from flask import Response, current_app, g, get_flashed_messages, render_template, request

from ..assets import asset_url, asset_version, offline_urls
from ..campaign import campaign
from ..i18n import current_lang, gettext
from . import bp

# Marks a form page fit to open later with no signal: signed in, no one-off message on it.
SHELL_HEADER = "X-Form-Shell"
FORM_ENDPOINT = "pages.household_form"


@bp.before_request
def _note_one_off_messages() -> None:
    """Read the form page's flashed messages first; the template gets the same list again."""
    if request.endpoint == FORM_ENDPOINT and g.get("user") is not None:
        g.one_off_messages = get_flashed_messages()


@bp.after_request
def _mark_form_shell(response: Response) -> Response:
    """Let the service worker keep a clean copy of the form page, never one with a message."""
    if (request.endpoint == FORM_ENDPOINT and request.method == "GET" and response.status_code == 200
            and not g.get("one_off_messages")):
        response.headers[SHELL_HEADER] = "1"
    return response


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
