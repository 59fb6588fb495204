"""Export endpoints: the same scope rules as the API, files named for their content."""

from __future__ import annotations

from collections.abc import Iterator

from flask import abort, g, request, send_file, stream_with_context

from exports import writers

from ..auth import requires
from ..campaign import campaign
from ..i18n import translate
from ..memory import give_back
from ..policy import levels_for
from ..reporting.aggregate import LEVELS
from ..reporting.tables import (
    aggregate_sheets,
    aggregate_table,
    household_columns,
    household_headings,
    household_rows,
)
from ..scope import communes_in_scope
from . import bp
from .files import CSV, XLSX, attachment, filename, lang_of_request


def _scope() -> list[int]:
    return communes_in_scope(g.user, campaign().gazetteer, request.args.get("district"), request.args.get("commune"))


def _level() -> str:
    level = request.args.get("level", "commune")
    if level not in LEVELS:
        abort(400, description=f"level must be one of {', '.join(LEVELS)}")
    if level not in levels_for(g.user.role):
        abort(403)
    return level


@bp.get("/aggregates.<fmt>")
@requires("see_figures")
def aggregates(fmt: str):
    """Aggregates at ?level= as CSV or JSON; XLSX holds a sheet per level with totals."""
    communes, lang = _scope(), lang_of_request()
    if fmt == "xlsx":
        body = writers.xlsx_bytes(aggregate_sheets(campaign(), communes, lang, g.user.role))
        return attachment(body, XLSX, filename("tong-hop", "xlsx"))
    level = _level()
    headings, keys, rows = aggregate_table(campaign(), level, communes, lang)
    if fmt == "csv":
        body = writers.csv_rows(headings, ([r.get(k, "") for k in keys] for r in rows))
        return attachment(stream_with_context(body), CSV, filename(f"tong-hop-{level}", "csv"))
    if fmt == "json":
        return attachment(writers.json_bytes({"level": level, "rows": rows}), "application/json",
                           filename(f"tong-hop-{level}", "json"))
    abort(404)


@bp.get("/households.<fmt>")
@requires("export_households")
def households(fmt: str):
    """Every household in scope, one row each: for district and Department staff only."""
    camp, communes, lang = campaign(), _scope(), lang_of_request()
    form, gaz = camp.form, camp.gazetteer
    headings = household_headings(form, lang)
    records = camp.households.records(communes)
    if fmt == "csv":
        body = writers.csv_rows(headings, household_rows(records, form, gaz, lang))
        return attachment(stream_with_context(_then_give_back(body)), CSV, filename("ho-gia-dinh", "csv"))
    if fmt == "xlsx":
        wide = {"hamlet", "head_name", "address", "note", "commune_name", "district_name", "id"}
        widths = [28 if c in wide else 14 for c in household_columns(form)]
        sheet = (translate("sheet_households", lang), headings, household_rows(records, form, gaz, lang), widths)
        fh = writers.xlsx_file([sheet])
        give_back()
        return send_file(fh, mimetype=XLSX, as_attachment=True, download_name=filename("ho-gia-dinh", "xlsx"))
    if fmt == "json":
        def chunks():
            yield "["
            for n, rec in enumerate(records):
                yield ("," if n else "") + writers.json_bytes(rec).decode()
            yield "]"
        return attachment(stream_with_context(chunks()), "application/json", filename("ho-gia-dinh", "json"))
    abort(404)


def _then_give_back(chunks: Iterator[str]) -> Iterator[str]:
    """The chunks, then the memory the export freed handed back (``memory``): a worker that
    built the province's file would otherwise hold its height into the next request."""
    yield from chunks
    give_back()
