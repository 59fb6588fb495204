"""The office's household list: district and Department staff find any record of their area."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import g, render_template, request

from ..api.filters import FILTER_NAMES, list_query
from ..auth import requires
from ..campaign import campaign
from ..households.listing import REVIEW_STATES, find
from ..policy import may
from ..problems import BadInput
from ..scope import communes_in_scope
from . import bp

PER_PAGE = 50
_KEPT = ("district", "commune", *FILTER_NAMES)


def _page_number() -> int:
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        raise BadInput("page must be a whole number") from None
    if page < 1:
        raise BadInput("page must be 1 or more")
    return page


def list_url(page: int | None = None, **changes: object) -> str:
    """This list's URL with the current filters, ``changes`` applied and empty ones left out."""
    args = {k: request.args.get(k, "") for k in _KEPT}
    args.update({k: str(v) for k, v in changes.items()})
    if page and page > 1:
        args["page"] = str(page)
    return "/households?" + urlencode({k: v for k, v in args.items() if v})


@bp.get("/households")
@requires("list_households")
def household_list():
    """Filters, an accent-free search and pages of 50; each row opens the record's page."""
    camp = campaign()
    communes = communes_in_scope(g.user, camp.gazetteer, request.args.get("district"), request.args.get("commune"))
    query = list_query(request.args, g.user, communes)  # a bad unit or filter is answered by errors.py
    found = find(camp, query, _page_number(), PER_PAGE)
    gaz = camp.gazetteer
    districts = [gaz.districts[d] for d in gaz.districts
                 if any(g.user.can_read(c) for c in gaz.communes_of[d])]
    shown_communes = [gaz.communes[c] for c in communes_in_scope(g.user, gaz, request.args.get("district"))] \
        if request.args.get("district") or not may(g.user, "choose_district") else []
    return render_template("households.html", found=found, args=request.args, gazetteer=gaz,
                           districts=districts, communes=shown_communes, states=REVIEW_STATES,
                           form=camp.form, list_url=list_url)
