"""Who is asking: session cookies for pages, bearer tokens for the API, CSRF for forms."""

from __future__ import annotations

import functools
import hmac
import secrets
from typing import Callable

from flask import Response, abort, g, redirect, request, session, url_for

from .campaign import campaign
from .errors import json_error
from .i18n import gettext
from .users import User

__all__ = ["load_user", "login_required", "roles_required", "csrf_token", "check_csrf", "login", "logout",
           "require_password_change"]

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def load_user() -> None:
    """Set ``g.user`` from a bearer token or the session; never fails, only leaves it None."""
    g.user, g.via_token = None, False
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        g.user = campaign().users.by_token(header[7:].strip())
        g.via_token = True
        return
    username = session.get("user")
    if username:
        user = campaign().users.load(username)
        # a session made before a reset, deactivation or logout carries an old generation
        if user is not None and session.get("gen") == _generation(user):
            g.user = user


def _generation(user: User) -> list[int]:
    return [user.generation, user.sessions]


def current_user() -> User | None:
    return g.get("user")


def login(user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token, language kept)."""
    lang = session.get("lang")
    session.clear()
    session["user"] = user.username
    session["gen"] = _generation(user)
    session["csrf"] = secrets.token_urlsafe(24)
    if lang:
        session["lang"] = lang
    session.permanent = True


def logout() -> None:
    """End the session, and every copy of its cookie, keeping only the language choice."""
    if g.get("user") is not None and not g.get("via_token"):
        campaign().users.end_sessions(g.user.username)
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _is_api() -> bool:
    return request.path.startswith("/api/")


def login_required(view: Callable) -> Callable:
    """401 for the API and scripts, a redirect to the login page for browsers."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            if _is_api() or g.get("via_token") or not request.accept_mimetypes.accept_html:
                abort(401)
            return redirect(url_for("pages.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles: str) -> Callable:
    """Signed in with one of ``roles``, else 401/403."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def csrf_token() -> str:
    """The session's CSRF token, created on first use."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def check_csrf() -> None:
    """Refuse an unsafe request that rides on the session cookie without the session's token.

    Bearer-token requests carry no ambient credentials, so they need no CSRF token.
    """
    if request.method in SAFE_METHODS or g.get("via_token"):
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="csrf")


# What an account signed in with a one-time password may still reach.
_BEFORE_CHANGE = frozenset({"pages.change_password", "api.change_password", "pages.logout", "pages.login",
                            "static", "healthz", "pages.service_worker", "pages.manifest"})


def require_password_change() -> Response | None:
    """A one-time password leads to the change-password page and nowhere else until changed."""
    user = g.get("user")
    if user is None or not user.must_change or request.endpoint in _BEFORE_CHANGE:
        return None
    if _is_api() or g.get("via_token") or not request.accept_mimetypes.accept_html:
        return json_error(403, gettext("must_change_password"), change_password="/api/v1/password")
    return redirect(url_for("pages.change_password"))
