"""Households: create (idempotent on id), read, list, correct."""

from __future__ import annotations

from flask import abort, current_app, g, jsonify, request
from marshmallow import ValidationError

from ..auth import check_csrf, login_required
from ..campaign import campaign
from ..errors import json_error
from ..households.listing import find
from ..households.records import Conflict
from ..households.service import NoOpenFlag, OutsideArea, confirm_unchanged, correct, submit
from ..scope import ScopeError, communes_in_scope
from . import bp
from .body import BadBody, json_object
from .filters import FilterError, list_query
from .lang import api_lang


def _load(data: dict):
    """Validated record, or a 422 answer naming each bad field."""
    try:
        return campaign().schemas.schema(api_lang()).load(data), None
    except ValidationError as exc:
        return None, json_error(422, "the record has invalid fields", fields=exc.messages)


def _body():
    try:
        return json_object(), None
    except BadBody as exc:
        return None, json_error(400, str(exc))


@bp.post("/v1/households")
@login_required
def create_household():
    """Store a household; a retry with the same id and content answers 200, not a copy."""
    check_csrf()
    data, error = _body()
    if error:
        return error
    record, error = _load(data)
    if error:
        return error
    try:
        stored, created = submit(campaign(), g.user, record)
    except OutsideArea:
        return json_error(403, "you may not submit households for this commune")
    except Conflict:
        return json_error(409, "a different household was already stored under this id",
                          id=record["id"])
    response = jsonify(stored)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/households/{stored['id']}"
    return response


@bp.get("/v1/households/<record_id>")
@login_required
def get_household(record_id: str):
    """One household within the user's area."""
    record = campaign().households.get(record_id, sorted(g.user.communes))
    if record is None:
        return json_error(404, f"no household {record_id} in your area")
    return jsonify(record)


@bp.put("/v1/households/<record_id>")
@login_required
def replace_household(record_id: str):
    """Correct a household: the whole record is sent again, validated as a new one."""
    check_csrf()
    camp = campaign()
    data, error = _body()
    if error:
        return error
    if data.setdefault("id", record_id) != record_id:
        return json_error(422, "the record has invalid fields", fields={"id": ["does not match the URL"]})
    current = camp.households.get(record_id, sorted(g.user.communes))
    if current is None:
        return json_error(404, f"no household {record_id} in your area")
    record, error = _load(data)
    if error:
        return error
    try:
        return jsonify(correct(camp, g.user, current, record))
    except OutsideArea:
        return json_error(403, "you may not change households of this commune")


def _page_args() -> tuple[int, int]:
    limit = current_app.config["PAGE_SIZE_MAX"]
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError:
        abort(400, description="page and per_page must be whole numbers")
    if page < 1 or not 1 <= per_page <= limit:
        abort(400, description=f"page must be >= 1 and per_page between 1 and {limit}")
    return page, per_page


@bp.get("/v1/households")
@login_required
def list_households():
    """Households of the user's area, filtered by ?district= / ?commune= / ?hamlet= / ?officer= /
    ?visited_on= / ?review= and searched by ?q=, a page at a time."""
    camp = campaign()
    try:
        communes = communes_in_scope(g.user, camp.gazetteer, request.args.get("district"),
                                     request.args.get("commune"))
        query = list_query(request.args, g.user, communes)
    except ScopeError as exc:
        return json_error(exc.status, exc.message)
    except FilterError as exc:
        return json_error(400, str(exc))
    page, per_page = _page_args()
    found = find(camp, query, page, per_page)
    return jsonify({"items": found.items, "total": found.total, "page": page, "per_page": per_page,
                    "pages": found.pages})


@bp.get("/v1/households/<record_id>/history")
@login_required
def household_history(record_id: str):
    """A record now, its review flag, and its earlier versions (oldest first)."""
    camp = campaign()
    record = camp.households.get(record_id, sorted(g.user.communes))
    if record is None:
        return json_error(404, f"no household {record_id} in your area")
    return jsonify({"current": record, "flag": camp.flags.get(record_id, record["commune_code"]),
                    "versions": camp.history.versions(record_id, g.user.communes)})


@bp.post("/v1/households/<record_id>/checked")
@login_required
def household_checked(record_id: str):
    """The officer checked a flagged record and it needs no change: the flag closes, on record."""
    check_csrf()
    camp = campaign()
    record = camp.households.get(record_id, sorted(g.user.communes))
    if record is None:
        return json_error(404, f"no household {record_id} in your area")
    try:
        return jsonify(confirm_unchanged(camp, g.user, record))
    except OutsideArea:
        return json_error(403, "you may not change households of this commune")
    except NoOpenFlag:
        return json_error(409, "this household has no open review flag")


@bp.get("/v1/review/flags")
@login_required
def open_flags():
    """Records in the user's area that a reviewer sent back for correction."""
    return jsonify({"items": campaign().flags.open_flags(sorted(g.user.communes))})
