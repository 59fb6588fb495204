"""Log in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, make_response, redirect, render_template, request, url_for

from .. import auth
from ..accounts import change_own_password
from ..campaign import campaign
from ..i18n import gettext
from ..throttle import Throttled
from ..users import PasswordRefused
from . import bp


def _home_for(role: str) -> str:
    if role == "agency":
        return url_for("pages.agency_report_form")
    return url_for("pages.household_form") if role == "officer" else url_for("pages.figures")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not send the officer elsewhere.

    Browsers drop tabs and line breaks from a Location ("/%09/evil.example" is
    "//evil.example" to them), so the check runs on the path as a browser would read it.
    """
    if not target:
        return None
    path = "".join(ch for ch in target if ch.isprintable() and not ch.isspace())
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None
    parts = urlsplit(path)
    return path if not parts.scheme and not parts.netloc else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, back to where the user was going."""
    if request.method == "GET":
        return render_template("login.html", error=None)
    camp = campaign()
    username, address = request.form.get("username", "").strip(), request.remote_addr or ""
    try:
        attempt = camp.logins.begin(username, address)
    except Throttled as exc:
        return _throttled(exc)
    user = camp.users.authenticate(username, request.form.get("password", ""))
    if user is None:
        return render_template("login.html", error=gettext("bad_login")), 401
    camp.logins.succeeded(username, address, attempt)
    auth.login(user)
    return redirect(_safe_next(request.args.get("next")) or _home_for(user.role))


def _throttled(exc: Throttled):
    """429 with Retry-After: the password was not even checked."""
    message = gettext("too_many_logins", seconds=exc.retry_after)
    response = make_response(render_template("login.html", error=message), 429)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


@bp.route("/password", methods=["GET", "POST"])
@auth.requires("change_password")
def change_password():
    """Change one's own password: the current one is needed; other sessions and tokens end."""
    if request.method == "GET":
        return render_template("password.html", error=None)
    new = request.form.get("new_password", "")
    if new != request.form.get("confirm_password", ""):
        return render_template("password.html", error=gettext("password_mismatch")), 422
    try:
        user = change_own_password(campaign(), g.user.username, request.remote_addr or "",
                                   request.form.get("current_password", ""), new)
    except Throttled as exc:
        return render_template("password.html", error=gettext("too_many_logins", seconds=exc.retry_after)), 429
    except PasswordRefused as exc:
        return render_template("password.html", error=gettext(exc.key)), 422
    auth.login(user)
    flash(gettext("password_changed"), "ok")
    return redirect(_home_for(user.role))


@bp.post("/logout")
def logout():
    """End the session."""
    auth.logout()
    return redirect(url_for("pages.login"))


@bp.get("/")
def index():
    """Officers start on the form, everyone else on the figures."""
    if g.user is None:
        return redirect(url_for("pages.login"))
    return redirect(_home_for(g.user.role))
