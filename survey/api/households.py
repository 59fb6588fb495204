"""Households: create (idempotent on id), read, list, correct."""

from __future__ import annotations

import orjson
from flask import current_app, g, jsonify, request
from marshmallow import ValidationError

from ..auth import login_required
from ..campaign import campaign
from ..households import listing
from ..households.service import confirm_unchanged, correct, find, submit
from ..problems import BadInput
from ..scope import communes_in_scope
from . import bp
from .body import json_object
from .filters import list_query
from .lang import api_lang
from .lean_submit import raise_what_it_met


def _load(data: dict) -> dict:
    """The validated record; a ValidationError answers 422 naming each bad field."""
    return campaign().schemas.schema(api_lang()).load(data)


@bp.post("/v1/households")
@login_required
def create_household():
    """Store a household; a retry with the same id and content answers 200, not a copy."""
    raise_what_it_met(request.environ)  # the lean path's refusal or error, if it met one first
    stored, created = submit(campaign(), g.user, _load(json_object()))
    # orjson: the stored record is plain JSON values, encoded in a fraction of jsonify's time
    return current_app.response_class(orjson.dumps(stored), status=201 if created else 200,
                                      mimetype="application/json",
                                      headers={"Location": f"/api/v1/households/{stored['id']}"})


@bp.get("/v1/households/<record_id>")
@login_required
def get_household(record_id: str):
    """One household within the user's area."""
    return jsonify(find(campaign(), g.user, record_id))


@bp.put("/v1/households/<record_id>")
@login_required
def replace_household(record_id: str):
    """Correct a household: the whole record is sent again, validated as a new one."""
    camp = campaign()
    data = json_object()
    if data.setdefault("id", record_id) != record_id:
        raise ValidationError({"id": ["does not match the URL"]})
    current = find(camp, g.user, record_id)
    return jsonify(correct(camp, g.user, current, _load(data)))


def _page_args() -> tuple[int, int]:
    limit = current_app.config["PAGE_SIZE_MAX"]
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        raise BadInput("page and per_page must be whole numbers") from None
    if page < 1 or not 1 <= per_page <= limit:
        raise BadInput(f"page must be >= 1 and per_page between 1 and {limit}")
    return page, per_page


@bp.get("/v1/households")
@login_required
def list_households():
    """Households of the user's area, filtered by ?district= / ?commune= / ?hamlet= / ?officer= /
    ?visited_on= / ?review= and searched by ?q=, a page at a time."""
    camp = campaign()
    communes = communes_in_scope(g.user, camp.gazetteer, request.args.get("district"), request.args.get("commune"))
    query = list_query(request.args, g.user, communes)
    page, per_page = _page_args()
    found = listing.find(camp, query, page, per_page)
    return jsonify({"items": found.items, "total": found.total, "page": page, "per_page": per_page,
                    "pages": found.pages})


@bp.get("/v1/households/<record_id>/history")
@login_required
def household_history(record_id: str):
    """A record now, its review flag, and its earlier versions (oldest first)."""
    camp = campaign()
    record = find(camp, g.user, record_id)
    return jsonify({"current": record, "flag": camp.flags.get(record_id, record["commune_code"]),
                    "versions": camp.history.versions(record_id, g.user.communes)})


@bp.post("/v1/households/<record_id>/checked")
@login_required
def household_checked(record_id: str):
    """The officer checked a flagged record and it needs no change: the flag closes, on record."""
    camp = campaign()
    return jsonify(confirm_unchanged(camp, g.user, find(camp, g.user, record_id)))


@bp.get("/v1/review/flags")
@login_required
def open_flags():
    """Records in the user's area that a reviewer sent back for correction."""
    return jsonify({"items": campaign().flags.open_flags(sorted(g.user.communes))})
