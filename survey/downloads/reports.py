"""Report downloads: the province report for the Chairman, and the agency reports table."""

from __future__ import annotations

from flask import abort, g

from exports import writers
from exports.province_report import province_report_xlsx

from ..auth import requires
from ..campaign import campaign
from ..reporting.figures import agency_codes, agency_table, province_report_data
from ..reporting.tables import agency_sheet
from . import bp
from .files import CSV, XLSX, attachment, filename, lang_of_request


@bp.get("/province-report.xlsx")
@requires("province_report")
def province_report():
    """The XLSX the Department sends to the Chairman, built from the live figures."""
    body = province_report_xlsx(province_report_data(campaign()))
    return attachment(body, XLSX, filename("bao-cao-tinh", "xlsx"))


@bp.get("/agency-reports.<fmt>")
@requires("see_agency_reports")
def agency_reports(fmt: str):
    """The agencies in scope with their latest figures and status, as CSV, XLSX or JSON."""
    camp, lang = campaign(), lang_of_request()
    rows, totals = agency_table(camp, agency_codes(camp, g.user))
    title, headings, table, widths = agency_sheet(rows, camp.agencies.groups, lang)
    if fmt == "csv":
        return attachment(writers.csv_rows(headings, table), CSV, filename("bao-cao-co-quan", "csv"))
    if fmt == "xlsx":
        body = writers.xlsx_bytes([(title, headings, table, widths)])
        return attachment(body, XLSX, filename("bao-cao-co-quan", "xlsx"))
    if fmt == "json":
        return attachment(writers.json_bytes({"rows": rows, "totals": totals}), "application/json",
                           filename("bao-cao-co-quan", "json"))
    abort(404)
