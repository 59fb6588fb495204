"""Who is signed in, for a page that outlived its session (the offline form after a new login)."""

from __future__ import annotations

from flask import Response, g, jsonify

from ..auth import csrf_token, login_required
from . import bp


@bp.get("/v1/session")
@login_required
def current_session() -> Response:
    """The signed-in user and the session's CSRF token, so a cached page can send again."""
    user = g.user
    return jsonify({"user": {"username": user.username, "role": user.role, "unit": user.unit,
                             "full_name": user.full_name, "writable": sorted(user.writable)},
                    "csrf_token": csrf_token()})
