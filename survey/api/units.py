"""Units of the province and aggregate figures over them."""

from __future__ import annotations

from flask import Response, current_app, g, jsonify, request

from ..auth import login_required
from ..campaign import campaign
from ..policy import levels_for, may
from ..problems import BadInput, Refused
from ..reporting.aggregate import LEVELS, aggregate_rows
from ..reporting.answers import CODINGS, EncodedAnswer, kept_answers
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

    The JSON and each compressed form of it are kept with the answer, so a warm request
    checks the token and writes kept bytes: no encoding, no compression (``Content-Encoding``
    set here makes Flask-Compress leave the answer alone). ``generated_at`` is when these
    figures were computed; they are current until the ETag changes.
    """
    def encode() -> EncodedAnswer:
        doc = {"level": level, "rows": aggregate_rows(camp, level, communes), "generated_at": camp.stamp()}
        return EncodedAnswer((current_app.json.dumps(doc) + "\n").encode())

    token = camp.households.change_token(communes)  # before anything is read
    answer = kept_answers(camp).get(("json", level, tuple(communes)), token, encode)
    coding = _coding(len(answer.body))
    etag = f"{answer.etag}:{coding}" if coding else answer.etag
    if _held_tag(answer.etag):
        response = current_app.response_class(status=304)
    else:
        body = answer.coded(coding, current_app.config.get(*_LEVEL_SETTING[coding])) if coding else answer.body
        response = current_app.response_class(body, mimetype="application/json")
        if coding:
            response.headers["Content-Encoding"] = coding
    response.set_etag(etag)
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = "private, no-cache"  # kept only by the asker, always revalidated
    return response


# The compression level the rest of the service uses (delivery.py): setting, and its default.
_LEVEL_SETTING = {"br": ("COMPRESS_BR_LEVEL", 5), "gzip": ("COMPRESS_LEVEL", 6)}


def _coding(size: int) -> str | None:
    """The compression the client accepts that we prefer, or None for the JSON as it is."""
    if size < current_app.config.get("COMPRESS_MIN_SIZE", 500):
        return None
    best = request.accept_encodings.best_match((*CODINGS, "identity"))
    return best if best in CODINGS else None


def _held_tag(etag: str) -> str | None:
    """The client's tag for this answer, plain or as compression marked it (``tag:br``)."""
    return next((tag for tag in request.if_none_match.as_set()
                 if tag == etag or tag.startswith(etag + ":")), None)
