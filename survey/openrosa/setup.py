"""Browser pages around Collect: the officer's QR code, the XLSForm, and revoking a key."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for

from ..auth import requires
from ..campaign import campaign
from ..policy import may_manage
from ..users import User
from . import bp
from .keys import collect_settings, has_key, new_key, qr_svg, revoke
from .views import XLSX, published

__all__ = ["server_url"]


def server_url(key: str) -> str:
    """The URL Collect is given: its routes are appended to it."""
    return url_for("openrosa.form_list_view", key=key, _external=True).rsplit("/formList", 1)[0]


def _project_name(user: User) -> str:
    unit = campaign().gazetteer.unit(user.unit)
    return f"Bluezone · {unit.name}" if unit else "Bluezone"


@bp.route("/setup", methods=["GET", "POST"])
@requires("use_collect")
def setup():
    """GET: whether the account has a Collect key. POST: a new key, its QR code shown once."""
    camp, user = campaign(), g.user
    if not user.writable:
        abort(403)  # an account whose unit holds no commune has no form to fill
    qr = url = payload = None
    if request.method == "POST":
        url = server_url(new_key(camp, user.username))
        payload = collect_settings(url, _project_name(user))
        qr = qr_svg(payload)
        camp.account_log.add(user.username, camp.stamp(), "collect_key", user.username)
    doc = next((d for d in camp.users.all() if d["username"] == user.username), {})
    return render_template("openrosa/setup.html", qr=qr, url=url, payload=payload, has_key=has_key(doc))


@bp.get("/setup/household.xlsx")
@requires("use_collect")
def setup_xlsx():
    """The XLSForm of the signed-in officer's communes, for Excel."""
    form = published(g.user.writable)
    if form is None:
        abort(403)
    return Response(form.xlsx, content_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{form.form_id}.xlsx"', "Cache-Control": "no-store"})


@bp.post("/keys/<username>/revoke")
@requires("manage_accounts")
def revoke_key(username: str):
    """The district or Department stops a lost phone: the officer's key no longer opens anything."""
    camp = campaign()
    doc = next((d for d in camp.users.all() if d["username"] == username), None)
    if doc is None:
        abort(404)
    if not may_manage(g.user, doc["role"], doc["unit"], camp.gazetteer):
        abort(403)
    revoke(camp, username)
    camp.account_log.add(g.user.username, camp.stamp(), "collect_key_revoked", username)
    flash(f"Đã thu hồi mã ODK Collect của {username} / Collect key revoked", "ok")
    return redirect(url_for("pages.accounts"))
