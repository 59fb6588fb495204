"""Log in and out."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from .. import auth
from ..campaign import campaign
from ..i18n import gettext
from . import bp


def _home_for(role: str) -> str:
    if role == "agency":
        return url_for("pages.agency_report_form")
    return url_for("pages.household_form") if role == "officer" else url_for("pages.figures")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: a login link must not send the officer elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form; on success, back to where the user was going."""
    error = None
    if request.method == "POST":
        auth.check_csrf()
        user = campaign().users.authenticate(request.form.get("username", "").strip(),
                                             request.form.get("password", ""))
        if user is not None:
            auth.login(user)
            return redirect(_safe_next(request.args.get("next")) or _home_for(user.role))
        error = gettext("bad_login")
    status = 401 if error else 200
    return render_template("login.html", error=error), status


@bp.post("/logout")
def logout():
    """End the session."""
    auth.check_csrf()
    auth.logout()
    return redirect(url_for("pages.login"))


@bp.get("/")
def index():
    """Officers start on the form, everyone else on the figures."""
    if g.user is None:
        return redirect(url_for("pages.login"))
    return redirect(_home_for(g.user.role))
