"""Units of the province and aggregate figures over them."""

from __future__ import annotations

from flask import g, jsonify, request

from ..auth import login_required
from ..campaign import campaign
from ..policy import levels_for, may
from ..problems import BadInput, Refused
from ..reporting.aggregate import LEVELS, aggregate_rows
from ..scope import communes_in_scope
from . import bp


@bp.get("/v1/units")
def units():
    """Province, districts and communes with codes and names; ?q= searches commune names."""
    gaz = campaign().gazetteer
    query, level = request.args.get("q"), request.args.get("level", "commune")
    if level not in ("commune", "district"):
        raise BadInput("level must be commune or district")
    if query is not None:
        return jsonify({"items": [u.as_dict() for u in gaz.search(query, level=level)]})
    return jsonify(gaz.as_dict())


@bp.get("/v1/aggregates")
@login_required
def aggregates():
    """Figures at ?level= (province, district, commune, hamlet) for the user's area."""
    camp = campaign()
    level = request.args.get("level", "commune")
    if level not in LEVELS:
        raise BadInput(f"level must be one of {', '.join(LEVELS)}")
    communes = communes_in_scope(g.user, camp.gazetteer, request.args.get("district"), request.args.get("commune"))
    if not may(g.user, "see_figures"):
        raise Refused("agency accounts see their own staff reports, not household figures")
    if level not in levels_for(g.user.role):
        raise Refused(f"{g.user.role} accounts see the levels {', '.join(levels_for(g.user.role))}")
    rows = aggregate_rows(camp, level, communes)
    return jsonify({"level": level, "rows": rows, "generated_at": camp.stamp()})
