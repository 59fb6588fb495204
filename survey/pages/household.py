"""The household form page: one household per door, commune and hamlet kept between them."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from marshmallow import ValidationError

from ..auth import login_required
from ..campaign import campaign
from ..form_rules import client_rules
from ..forms import from_form_post, new_id
from ..households.service import submit
from ..i18n import current_lang, gettext, ngettext, number
from ..problems import Conflict
from ..reporting.aggregate import aggregate_rows
from . import bp


def render_form(values: dict, errors: dict, status: int = 200, action: str | None = None):
    """The form page with ``values`` filled in and ``errors`` beside their fields."""
    camp = campaign()
    communes = [camp.gazetteer.communes[c] for c in sorted(g.user.writable)]
    commune = values.get("commune_code")
    hamlets = []
    if isinstance(commune, int) and g.user.can_write(commune):
        hamlets = [row["name"] for row in aggregate_rows(camp, "hamlet", [commune])]
    to_fix = len(camp.flags.open_flags(sorted(g.user.writable))) if g.user.role == "officer" else 0
    window = [d.isoformat() for d in camp.visit_window()]
    rules = client_rules(camp.form, current_lang(), camp.visit_window, camp.gazetteer.province.name)
    rules["communes"] = sorted(g.user.writable)  # the communes this officer may write
    return render_template("form.html", form=camp.form, values=values, errors=errors, to_fix=to_fix,
                           action=action or url_for("pages.submit_household"), communes=communes,
                           hamlets=hamlets, today=camp.today().isoformat(), window=window,
                           rules=rules), status


@bp.get("/form")
@login_required
def household_form():
    """A fresh form with a new record id, so a resubmitted page cannot store a household twice."""
    if not g.user.writable:
        abort(403)
    values = {"id": new_id(), "commune_code": session.get("last_commune"),
              "hamlet": session.get("last_hamlet", "")}
    if values["commune_code"] not in g.user.writable:
        values["commune_code"] = min(g.user.writable) if len(g.user.writable) == 1 else None
    return render_form(values, {})


@bp.post("/form")
@login_required
def submit_household():
    """Validate with the form's schema; on success confirm and hand out a fresh form."""
    camp = campaign()
    data = from_form_post(camp.form, request.form)
    try:
        record = camp.schemas.schema(current_lang()).load(data)
    except ValidationError as exc:
        flash(gettext("fix_errors"), "error")
        return render_form(data, exc.messages, 422)
    try:
        stored, _ = submit(camp, g.user, record)
    except Conflict:
        stored = None  # the page was sent twice with edits: keep the first, show a new form
    session["last_commune"], session["last_hamlet"] = record["commune_code"], record["hamlet"]
    count = camp.households.count([record["commune_code"]])
    name = stored["head_name"] if stored else record["head_name"]
    flash(ngettext("saved", count, name=name, hamlet=record["hamlet"], count=number(count)), "ok")
    return redirect(url_for("pages.household_form"))
