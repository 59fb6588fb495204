"""Agency staff reports: submit (idempotent on id, each one a new version), list, summarise."""

from __future__ import annotations

from flask import g, jsonify, request

from ..auth import login_required
from ..campaign import campaign
from ..policy import may
from ..problems import NotFound, Refused
from ..reporting.figures import agency_codes, agency_table, submit_agency_report
from . import bp
from .body import json_object
from .lang import api_lang


def _codes() -> list[str]:
    """Agencies in the user's scope, narrowed by ?agency= (an unknown one is not found)."""
    if not may(g.user, "see_agency_reports"):
        raise Refused("commune officers do not see agency reports")
    codes = agency_codes(campaign(), g.user)
    wanted = request.args.get("agency")
    if wanted and wanted not in codes:
        kind = Refused if wanted in campaign().agencies.all() else NotFound
        raise kind(f"agency {wanted!r} is not in your scope")
    return [wanted] if wanted else codes


@bp.post("/v1/agency-reports")
@login_required
def create_agency_report():
    """Store an agency's report; an agency account may leave out its own code."""
    camp = campaign()
    if not agency_codes(camp, g.user):
        raise Refused("this account reports for no agency")
    data = json_object()
    if g.user.role == "agency":
        data.setdefault("agency_code", g.user.unit)
    record = camp.agency_schemas.schema(api_lang()).load(data)
    stored, created = submit_agency_report(camp, g.user, record)
    response = jsonify(stored)
    response.status_code = 201 if created else 200
    return response


@bp.get("/v1/agency-reports")
@login_required
def list_agency_reports():
    """Every version of every report in scope (?agency= for one), oldest first."""
    codes = _codes()
    items = campaign().agency_reports.versions(codes)
    latest = {d["agency_code"]: d["id"] for d in items}
    return jsonify({"items": [{**d, "current": latest[d["agency_code"]] == d["id"]} for d in items],
                    "total": len(items)})


@bp.get("/v1/agency-reports/summary")
@login_required
def agency_report_summary():
    """One row per agency in scope (latest figures, status) and totals, against the deadline."""
    camp = campaign()
    rows, totals = agency_table(camp, _codes())
    return jsonify({"deadline": camp.settings.get().agency_deadline.isoformat(), "rows": rows,
                    "totals": totals, "generated_at": camp.stamp()})
