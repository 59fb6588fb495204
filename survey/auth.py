"""Who is asking: session cookies for pages, bearer tokens for the API, CSRF for forms.

CSRF is Flask-WTF's: every POST, PUT, PATCH and DELETE that rides on the session cookie must
carry the session's token (the form's ``csrf_token`` field or the ``X-CSRF-Token`` header),
checked before any view runs. Bearer-token calls carry no ambient credential and are exempt.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from flask import Response, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect, generate_csrf

from .campaign import Campaign, campaign
from .errors import json_error
from .i18n import gettext
from .policy import may
from .users import User

__all__ = ["csrf", "load_user", "login_required", "requires", "csrf_token", "protect_session_writes",
           "login", "logout", "require_password_change", "session_user"]

csrf = CSRFProtect()


def load_user() -> None:
    """Set ``g.user`` from a bearer token or the session; never fails, only leaves it None."""
    g.user, g.via_token = None, False
    # the environ, not request.headers: a header missing there costs a raised KeyError per request
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Bearer "):
        g.user = campaign().users.by_token(header[7:].strip())
        g.via_token = True
        return
    if session.get("user"):
        g.user = session_user(campaign(), session)


def session_user(camp: Campaign, session: Mapping) -> User | None:
    """The active user a session was made for, if the account has not moved on since: a
    session made before a reset, deactivation or logout carries an old generation."""
    user = camp.users.load(session["user"]) if session.get("user") else None
    return user if user is not None and session.get("gen") == _generation(user) else None


def _generation(user: User) -> list[int]:
    return [user.generation, user.sessions]


def current_user() -> User | None:
    return g.get("user")


def login(user: User) -> None:
    """Start a fresh session for ``user`` (a new CSRF token on first use, language kept)."""
    lang = session.get("lang")
    session.clear()
    g.pop("csrf_token", None)  # the token cached for this request belonged to the old session
    session["user"] = user.username
    session["gen"] = _generation(user)
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
    wrapped.needs_login = True  # type: ignore[attr-defined]
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
    """The session's CSRF token (signed), created on first use: for forms and page scripts."""
    return generate_csrf()


def protect_session_writes() -> None:
    """Refuse an unsafe request that rides on the session cookie without the session's token.

    Runs after ``load_user``. Bearer-token requests are exempt: they carry no cookie. A
    request for a signed-in-only view with no one signed in is left to ``login_required``,
    which answers 401 or sends the browser to the login page.
    """
    if g.get("via_token"):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if g.get("user") is None and getattr(view, "needs_login", False):
        return
    csrf.protect(apply_exemptions=True)


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
