"""Agency staff reports: submit (idempotent on id, each one a new version), list, summarise."""

from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import ValidationError

from ..auth import check_csrf, login_required
from ..campaign import campaign
from ..errors import json_error
from ..households.records import Conflict
from ..reporting.figures import NotYourAgency, agency_codes, agency_table, submit_agency_report
from . import bp
from .body import BadBody, json_object
from .lang import api_lang


def _codes():
    """Agencies in the user's scope, narrowed by ?agency=; (codes, error)."""
    if g.user.role == "officer":
        return None, json_error(403, "commune officers do not see agency reports")
    codes = agency_codes(campaign(), g.user)
    wanted = request.args.get("agency")
    if wanted:
        if wanted not in codes:
            return None, json_error(403 if wanted in campaign().agencies.all() else 404,
                                    f"agency {wanted!r} is not in your scope")
        codes = [wanted]
    return codes, None


@bp.post("/v1/agency-reports")
@login_required
def create_agency_report():
    """Store an agency's report; an agency account may leave out its own code."""
    check_csrf()
    camp = campaign()
    if not agency_codes(camp, g.user):
        return json_error(403, "this account reports for no agency")
    try:
        data = json_object()
    except BadBody as exc:
        return json_error(400, str(exc))
    if g.user.role == "agency":
        data.setdefault("agency_code", g.user.unit)
    try:
        record = camp.agency_schemas.schema(api_lang()).load(data)
    except ValidationError as exc:
        return json_error(422, "the report has invalid fields", fields=exc.messages)
    try:
        stored, created = submit_agency_report(camp, g.user, record)
    except NotYourAgency:
        return json_error(403, "you may not report for this agency")
    except Conflict:
        return json_error(409, "a different report was already stored under this id", id=record["id"])
    response = jsonify(stored)
    response.status_code = 201 if created else 200
    return response


@bp.get("/v1/agency-reports")
@login_required
def list_agency_reports():
    """Every version of every report in scope (?agency= for one), oldest first."""
    codes, error = _codes()
    if error:
        return error
    items = campaign().agency_reports.versions(codes)
    latest = {d["agency_code"]: d["id"] for d in items}
    return jsonify({"items": [{**d, "current": latest[d["agency_code"]] == d["id"]} for d in items],
                    "total": len(items)})


@bp.get("/v1/agency-reports/summary")
@login_required
def agency_report_summary():
    """One row per agency in scope (latest figures, status) and totals, against the deadline."""
    camp = campaign()
    codes, error = _codes()
    if error:
        return error
    rows, totals = agency_table(camp, codes)
    return jsonify({"deadline": camp.settings.get().agency_deadline.isoformat(), "rows": rows,
                    "totals": totals, "generated_at": camp.stamp()})
