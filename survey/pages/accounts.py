"""Account administration pages for the Department and district staff."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from ..accounts import AccountLog, ListRefused, create_many, read_account_rows, reset_password, set_active
from ..auth import requires
from ..campaign import campaign
from ..codes import is_code
from ..i18n import gettext
from ..policy import may_manage, roles_managed_by
from ..users import ROLES, AccountError
from . import bp


def _log() -> AccountLog:
    return campaign().account_log


def _unit(value: str | None) -> int | str | None:
    value = (value or "").strip()
    if not value:
        return None
    # digits are a commune or district; anything else an agency's code (SYT, UBND-148) or a
    # mistake ("4831.9", "²"), which check_unit refuses with the reason
    return int(value) if is_code(value) else value.upper()


def _managed() -> list[dict]:
    camp = campaign()
    docs = [d for d in camp.users.all() if may_manage(g.user, d["role"], d["unit"], camp.gazetteer)]
    return sorted(docs, key=lambda d: (ROLES.index(d["role"]) if d["role"] in ROLES else 9, d["username"]))


@bp.get("/accounts")
@requires("manage_accounts")
def accounts(new: list[tuple[str, str]] | None = None, errors: list[str] | None = None, status: int = 200):
    """Accounts this user manages, with forms to add, reset and deactivate, and the change log."""
    users = _managed()
    roles = roles_managed_by(g.user)
    log = _log().entries([u["username"] for u in users])[:100]
    return render_template("accounts.html", users=users, roles=roles, log=log, new=new or [],
                           errors=errors or [], gazetteer=campaign().gazetteer), status


def _create_rows(rows: list[tuple[int, dict]]) -> tuple[list[tuple[str, str]], list[str]]:
    """All or nothing: (created accounts with their passwords, []) or ([], each bad row)."""
    rows = [(line, {"username": row.get("username", "").strip().lower(), "full_name": row.get("full_name", ""),
                    "role": row.get("role", "").strip(), "unit": _unit(row.get("unit"))}) for line, row in rows]
    try:
        return create_many(campaign(), _log(), g.user, rows), []
    except ListRefused as exc:
        return [], exc.problems


@bp.post("/accounts")
@requires("manage_accounts")
def add_accounts():
    """Create one account from the form, or many from an uploaded CSV/XLSX list."""
    upload = request.files.get("file")
    try:
        if upload is not None and upload.filename:
            rows = read_account_rows(upload.filename, upload.stream)
        else:
            rows = [(1, {k: request.form.get(k, "") for k in ("username", "full_name", "role", "unit")})]
    except AccountError as exc:
        return accounts(errors=[str(exc)], status=422)
    made, errors = _create_rows(rows)
    return accounts(new=made, errors=errors, status=422 if errors else 200)


@bp.post("/accounts/<username>/reset")
@requires("manage_accounts")
def reset(username: str):
    """A new one-time password, shown once."""
    try:
        password = reset_password(campaign(), _log(), g.user, username)
    except AccountError:
        abort(404)
    except PermissionError:
        abort(403)
    return accounts(new=[(username, password)])


@bp.post("/accounts/<username>/active")
@requires("manage_accounts")
def activate(username: str):
    """Deactivate or reactivate an account."""
    try:
        set_active(campaign(), _log(), g.user, username, request.form.get("active") == "1")
    except PermissionError:
        abort(403)
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(gettext("account_updated", username=username), "ok")
    return redirect(url_for("pages.accounts"))
