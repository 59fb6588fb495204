"""The agency report page: an agency's figures sent from a phone, its earlier reports below."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..auth import requires
from ..campaign import campaign
from ..forms import from_form_post, new_id
from ..households.records import Conflict
from ..i18n import current_lang, gettext
from ..reporting.figures import agency_codes, submit_agency_report
from . import bp


def _render(values: dict, errors: dict, status: int = 200, receipt: dict | None = None):
    camp = campaign()
    codes = agency_codes(camp, g.user)
    if not codes:
        abort(403)
    registry = camp.agencies.all()
    history = camp.agency_reports.versions(codes if g.user.role != "department" else [])
    return render_template("agency_report.html", form=camp.agency_form, values=values, errors=errors,
                           agencies=[(c, registry[c]["name"]) for c in codes], history=history[::-1],
                           names={c: a["name"] for c, a in registry.items()}, receipt=receipt,
                           today=camp.today().isoformat()), status


def _sent(codes: list[str]) -> dict | None:
    """The report named by ?sent= (the one just stored), if it is one of these agencies'."""
    sent = request.args.get("sent")
    if not sent:
        return None
    return next((r for r in campaign().agency_reports.versions(codes) if r["id"] == sent), None)


@bp.get("/agency-report")
@requires("report_for_agency")
def agency_report_form():
    """A fresh report with a new id: prefilled with the agency's latest figures, or, just after
    sending (?sent=), empty below the receipt, so a second tap cannot send the same figures again."""
    camp = campaign()
    codes = agency_codes(camp, g.user)
    receipt = _sent(codes)
    latest = camp.agency_reports.versions(codes[:1])[-1:] if len(codes) == 1 and not receipt else []
    values = {k: v for k, v in latest[0].items() if k in camp.agency_form.by_name} if latest else {}
    values.update({"id": new_id(), "agency_code": codes[0] if len(codes) == 1 else None, "reported_on": None})
    return _render(values, {}, receipt=receipt)


@bp.post("/agency-report")
@requires("report_for_agency")
def submit_agency_report_form():
    """Validate with the report form's schema, store the next version, then redirect to the
    receipt (Post/Redirect/Get: reloading the page sends nothing again)."""
    camp = campaign()
    data = from_form_post(camp.agency_form, request.form)
    try:
        record = camp.agency_schemas.schema(current_lang()).load(data)
    except ValidationError as exc:
        flash(gettext("fix_errors"), "error")
        return _render(data, exc.messages, 422)
    try:
        stored, _ = submit_agency_report(camp, g.user, record)
    except Conflict as exc:
        stored = exc.existing  # the page was sent twice with edits: the first one stands
    return redirect(url_for("pages.agency_report_form", sent=stored["id"]))
