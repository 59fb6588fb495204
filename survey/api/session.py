"""Who is signed in, for a page that outlived its session (the offline form after a new login)."""

from __future__ import annotations

from flask import Response, g, jsonify, request

from .. import auth
from ..accounts import change_own_password
from ..auth import csrf_token, login_required, requires
from ..campaign import campaign
from ..errors import json_error
from ..i18n import gettext
from ..throttle import Throttled
from ..users import PasswordRefused
from . import bp
from .body import json_object
from .lang import api_lang


@bp.get("/v1/session")
@login_required
def current_session() -> Response:
    """The signed-in user and the session's CSRF token, so a cached page can send again."""
    user = g.user
    return jsonify({"user": {"username": user.username, "role": user.role, "unit": user.unit,
                             "full_name": user.full_name, "writable": sorted(user.writable)},
                    "csrf_token": csrf_token()})


@bp.post("/v1/password")
@requires("change_password")
def change_password() -> Response:
    """Change one's own password ({"current_password", "new_password"}): every other session
    and every API token of the account ends, the token used for this call included."""
    body = json_object()
    current, new = body.get("current_password"), body.get("new_password")
    if not isinstance(current, str) or not isinstance(new, str):
        return json_error(422, "send current_password and new_password as text",
                          fields={k: ["required"] for k in ("current_password", "new_password")
                                  if not isinstance(body.get(k), str)})
    try:
        user = change_own_password(campaign(), g.user.username, request.remote_addr or "", current, new)
    except Throttled as exc:
        return json_error(429, f"too many attempts; retry in {exc.retry_after} s")
    except PasswordRefused as exc:
        return json_error(422, gettext(exc.key, api_lang()))
    if not g.via_token:
        auth.login(user)
    return jsonify({"changed": True, "username": user.username})
