"""Units of the province and aggregate figures over them."""

from __future__ import annotations

from flask import g, jsonify, request

from ..auth import login_required
from ..campaign import campaign
from ..errors import json_error
from ..reporting.aggregate import LEVELS, aggregate_rows
from ..scope import ScopeError, communes_in_scope
from . import bp


@bp.get("/v1/units")
def units():
    """Province, districts and communes with codes and names; ?q= searches commune names."""
    gaz = campaign().gazetteer
    query, level = request.args.get("q"), request.args.get("level", "commune")
    if level not in ("commune", "district"):
        return json_error(400, "level must be commune or district")
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
        return json_error(400, f"level must be one of {', '.join(LEVELS)}")
    try:
        communes = communes_in_scope(g.user, camp.gazetteer, request.args.get("district"),
                                     request.args.get("commune"))
    except ScopeError as exc:
        return json_error(exc.status, exc.message)
    if g.user.role == "agency":
        return json_error(403, "agency accounts see their own staff reports, not household figures")
    if level in ("province", "district") and g.user.role == "officer":
        return json_error(403, "officers see their own commune and its hamlets")
    if level == "province" and g.user.role == "district":
        return json_error(403, "district staff see their own district")
    rows = aggregate_rows(camp, level, communes)
    return jsonify({"level": level, "rows": rows, "generated_at": camp.stamp()})
