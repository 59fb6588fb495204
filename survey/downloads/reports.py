"""Report downloads: the province report for the Chairman, and the agency reports table."""

from __future__ import annotations

from flask import abort, g

from exports import writers
from exports.province_report import province_report_xlsx

from ..auth import login_required, roles_required
from ..campaign import campaign
from ..i18n import MESSAGES
from ..reporting import agency_codes, agency_table, province_report_data
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


def _cell(row: dict, key: str, lang: str):
    """A table cell: statuses in words, missing figures blank."""
    if key == "status":
        return MESSAGES["status_" + row[key]][lang]
    return "" if row[key] is None else row[key]


@bp.get("/province-report.xlsx")
@roles_required("department")
def province_report():
    """The XLSX the Department sends to the Chairman, built from the live figures."""
    body = province_report_xlsx(province_report_data(campaign()))
    return _attachment(body, XLSX, _filename("bao-cao-tinh", "xlsx"))


@bp.get("/agency-reports.<fmt>")
@login_required
def agency_reports(fmt: str):
    """The agencies in scope with their latest figures and status, as CSV, XLSX or JSON."""
    if g.user.role == "officer":
        abort(403)
    camp, lang = campaign(), _lang()
    rows, totals = agency_table(camp, agency_codes(camp, g.user))
    keys = list(_COLUMNS)
    headings = [_COLUMNS[k][lang] for k in keys]
    table = [[_cell(r, k, lang) for k in keys] for r in rows]
    if fmt == "csv":
        return _attachment(writers.csv_rows(headings, table), CSV, _filename("bao-cao-co-quan", "csv"))
    if fmt == "xlsx":
        sheet = ("Cơ quan, đơn vị" if lang == "vi" else "Agencies", headings, table,
                 [12, 34, 12, 12, 8, 22, 22, 12, 10, 10, 10, 10, 20, 14])
        return _attachment(writers.xlsx_bytes([sheet]), XLSX, _filename("bao-cao-co-quan", "xlsx"))
    if fmt == "json":
        return _attachment(writers.json_bytes({"rows": rows, "totals": totals}), "application/json",
                           _filename("bao-cao-co-quan", "json"))
    abort(404)
