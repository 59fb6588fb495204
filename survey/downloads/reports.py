"""Report downloads: the province report for the Chairman, and the agency reports table."""

from __future__ import annotations

from flask import abort, g

from exports import writers
from exports.province_report import province_report_xlsx

from ..auth import requires
from ..campaign import campaign
from ..i18n import MESSAGES
from ..reporting.figures import agency_codes, agency_table, province_report_data
from . import bp
from .views import CSV, XLSX, _attachment, _filename, _lang

_COLUMNS = {
    "code": {"vi": "Mã", "en": "Code"}, "name": {"vi": "Cơ quan, đơn vị", "en": "Agency"},
    "group": {"vi": "Nhóm", "en": "Group"}, "status": {"vi": "Tình trạng", "en": "Status"},
    "versions": {"vi": "Số lần báo cáo", "en": "Reports"},
    "first_submitted_at": {"vi": "Gửi lần đầu", "en": "First sent at"},
    "submitted_at": {"vi": "Gửi lần cuối", "en": "Last sent at"},
    "reported_on": {"vi": "Số liệu đến ngày", "en": "Figures as of"},
    "staff_total": {"vi": "Tổng số cán bộ", "en": "Staff"},
    "smartphone_users": {"vi": "Số dùng ĐTTM", "en": "Smartphone users"},
    "installed": {"vi": "Số đã cài", "en": "Installed"},
    "coverage_pct": {"vi": "Tỷ lệ (%)", "en": "Coverage (%)"},
    "reporter_name": {"vi": "Người báo cáo", "en": "Reported by"},
    "reporter_phone": {"vi": "Điện thoại", "en": "Phone"},
}


def _cell(row: dict, key: str, lang: str, groups: dict[str, dict[str, str]]):
    """A table cell: statuses and groups in words, missing figures blank."""
    if key == "status":
        return MESSAGES["status_" + row[key]][lang]
    if key == "group":
        return groups.get(row[key], {}).get(lang, row[key])
    return "" if row[key] is None else row[key]


def agency_sheet(rows: list[dict], groups: dict[str, dict[str, str]], lang: str) -> tuple:
    """(title, headings, rows, widths) of the agency table, for the CSV and XLSX writers."""
    keys = list(_COLUMNS)
    table = [[_cell(r, k, lang, groups) for k in keys] for r in rows]
    return ("Cơ quan, đơn vị" if lang == "vi" else "Agencies", [_COLUMNS[k][lang] for k in keys], table,
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
