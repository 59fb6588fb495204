"""Report downloads: the province report for the Chairman, and the agency reports table."""

from __future__ import annotations

from flask import abort, g

from exports import writers
from exports.province_report import province_report_xlsx

from ..auth import requires
from ..campaign import campaign
from ..i18n import translate
from ..reporting.figures import agency_codes, agency_table, province_report_data
from . import bp
from .views import CSV, XLSX, _attachment, _filename, _lang

# The table's columns in order; their headings are the catalogue's "col_<key>".
_COLUMNS = ("code", "name", "group", "status", "versions", "first_submitted_at", "submitted_at", "reported_on",
            "staff_total", "smartphone_users", "installed", "coverage_pct", "reporter_name", "reporter_phone")


def _cell(row: dict, key: str, lang: str, groups: dict[str, dict[str, str]]):
    """A table cell: statuses and groups in words, missing figures blank."""
    if key == "status":
        return translate("status_" + row[key], lang)
    if key == "group":
        return groups.get(row[key], {}).get(lang, row[key])
    return "" if row[key] is None else row[key]


def agency_sheet(rows: list[dict], groups: dict[str, dict[str, str]], lang: str) -> tuple:
    """(title, headings, rows, widths) of the agency table, for the CSV and XLSX writers."""
    keys = list(_COLUMNS)
    table = [[_cell(r, k, lang, groups) for k in keys] for r in rows]
    return (translate("sheet_agencies", lang), [translate("col_" + k, lang) for k in keys], table,
            [12, 34, 22, 20, 8, 22, 22, 12, 10, 10, 10, 10, 20, 14])


@bp.get("/province-report.xlsx")
@requires("province_report")
def province_report():
    """The XLSX the Department sends to the Chairman, built from the live figures."""
    body = province_report_xlsx(province_report_data(campaign()))
    return _attachment(body, XLSX, _filename("bao-cao-tinh", "xlsx"))


@bp.get("/agency-reports.<fmt>")
@requires("see_agency_reports")
def agency_reports(fmt: str):
    """The agencies in scope with their latest figures and status, as CSV, XLSX or JSON."""
    camp, lang = campaign(), _lang()
    rows, totals = agency_table(camp, agency_codes(camp, g.user))
    title, headings, table, widths = agency_sheet(rows, camp.agencies.groups, lang)
    if fmt == "csv":
        return _attachment(writers.csv_rows(headings, table), CSV, _filename("bao-cao-co-quan", "csv"))
    if fmt == "xlsx":
        body = writers.xlsx_bytes([(title, headings, table, widths)])
        return _attachment(body, XLSX, _filename("bao-cao-co-quan", "xlsx"))
    if fmt == "json":
        return _attachment(writers.json_bytes({"rows": rows, "totals": totals}), "application/json",
                           _filename("bao-cao-co-quan", "json"))
    abort(404)
