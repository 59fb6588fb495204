"""Units of the province and aggregate figures over them."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request

from ..auth import login_required
from ..campaign import campaign
from ..policy import levels_for, may
from ..problems import BadInput, Refused
from ..reporting.aggregate import LEVELS, aggregate_rows
from ..reporting.answers import etag_of, kept_answers
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
    return _fresh_answer(camp, level, communes)


def _fresh_answer(camp, level: str, communes: list[int]) -> Response:
    """The encoded rows, kept until a commune in scope changes; 304 when the client has them.

    ``generated_at`` is when these figures were computed; they are current until the ETag changes.
    """
    def encode() -> tuple[bytes, str]:
        doc = {"level": level, "rows": aggregate_rows(camp, level, communes), "generated_at": camp.stamp()}
        body = (current_app.json.dumps(doc) + "\n").encode()
        return body, etag_of(body)

    token = camp.households.change_token(communes)  # before anything is read
    body, etag = kept_answers(camp).get(("json", level, tuple(communes)), token, encode)
    held = _held_tag(etag)
    if held:
        response = current_app.response_class(status=304)
        response.set_etag(held)
    else:
        response = current_app.response_class(body, mimetype="application/json")
        response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"  # kept only by the asker, always revalidated
    return response


def _held_tag(etag: str) -> str | None:
    """The client's tag for this answer, plain or as compression marked it (``tag:br``)."""
    return next((tag for tag in request.if_none_match.as_set()
                 if tag == etag or tag.startswith(etag + ":")), None)
