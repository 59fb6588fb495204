"""Department-only pages: the campaign settings and the registry of reporting agencies."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..auth import requires
from ..campaign import campaign
from ..codes import is_code
from ..i18n import current_lang, gettext
from ..reporting.agencies import AgencySchema
from . import bp

_SETTINGS = ("start", "end", "agency_deadline", "province_deadline", "target_pct", "stale_days")


def _render_settings(values: dict, errors: dict, status: int = 200):
    return render_template("settings.html", values=values, errors=errors, fields=_SETTINGS), status


@bp.get("/settings")
@requires("edit_settings")
def settings():
    """The campaign's start, deadlines and coverage target, as stored now."""
    return _render_settings(campaign().settings.get().as_dict(), {})


@bp.post("/settings")
@requires("edit_settings")
def save_settings():
    """Validate with ``SettingsSchema`` and store for every worker."""
    camp = campaign()
    data = {k: request.form.get(k, "") for k in _SETTINGS}
    try:
        values = camp.settings.schema(current_lang()).load(data)
    except ValidationError as exc:
        flash(gettext("fix_errors"), "error")
        return _render_settings(data, exc.messages, 422)
    camp.settings.save(values, g.user.username, camp.stamp())
    flash(gettext("settings_saved"), "ok")
    return redirect(url_for("pages.settings"))


def _render_agencies(values: dict, errors: dict, status: int = 200):
    camp = campaign()
    return render_template("agencies.html", agencies=camp.agencies.all(), groups=camp.agencies.groups,
                           districts=camp.gazetteer.districts, values=values, errors=errors), status


@bp.get("/agencies")
@requires("edit_agencies")
def agencies():
    """The agencies expected to report, and a form to add, rename or retire one."""
    code = request.args.get("code")
    return _render_agencies(campaign().agencies.all().get(code, {"active": True}), {})


@bp.post("/agencies")
@requires("edit_agencies")
def save_agency():
    """Validate with ``AgencySchema`` and keep the change in the data directory."""
    camp = campaign()
    data = {k: request.form.get(k, "").strip() for k in ("code", "name", "group")}
    district = request.form.get("district", "")
    data["district"] = int(district) if is_code(district) else (district or None)
    data["active"] = "active" in request.form
    try:
        agency = AgencySchema(camp.agencies, current_lang()).load(data)
    except ValidationError as exc:
        flash(gettext("fix_errors"), "error")
        return _render_agencies(data, exc.messages, 422)
    camp.agencies.save(agency)
    flash(gettext("agency_saved", code=agency["code"]), "ok")
    return redirect(url_for("pages.agencies"))
