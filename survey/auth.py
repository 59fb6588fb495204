"""Who is asking: session cookies for pages, bearer tokens for the API, CSRF for forms."""

from __future__ import annotations

import functools
import hmac
import secrets
from typing import Callable

from flask import abort, g, redirect, request, session, url_for

from .campaign import campaign
from .policy import may
from .users import User

__all__ = ["load_user", "login_required", "requires", "csrf_token", "check_csrf", "login", "logout"]

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
        g.user = campaign().users.load(username)


def current_user() -> User | None:
    return g.get("user")


def login(user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token, language kept)."""
    lang = session.get("lang")
    session.clear()
    session["user"] = user.username
    session["csrf"] = secrets.token_urlsafe(24)
    if lang:
        session["lang"] = lang
    session.permanent = True


def logout() -> None:
    """End the session, keeping only the language choice."""
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


def requires(action: str) -> Callable:
    """Signed in and allowed ``action`` by the policy, else 401/403."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not may(g.user, action):
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
