"""The province report the Department sends to the Chairman: one XLSX, four printable sheets.

A summary (the province's figures against the target, the agencies' reporting), then the
figures by district, by commune, and each agency with its status. Headings are Vietnamese;
every sheet prints on A4 landscape, one page wide, its heading row repeated on each page.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .coverage import coverage_pct

_FORMULA_FIRST = frozenset("=+-@")

__all__ = ["province_report_xlsx", "SHEETS", "SUMMARY_LABELS"]

SHEETS = ("Tổng hợp", "Theo huyện", "Theo xã", "Cơ quan, đơn vị")
INT, PCT, DATE = "#,##0", "0.0", "dd/mm/yyyy"
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="center", horizontal="center")

# Household figure columns: (key, heading, width, number format)
_FIGURES = [
    ("households", "Số hộ đã đến", 11, INT),
    ("members", "Số nhân khẩu", 11, INT),
    ("smartphone_users", "Số người dùng ĐTTM", 12, INT),
    ("installed_before", "Đã cài từ trước", 11, INT),
    ("installed_during_visit", "Cài khi cán bộ đến", 11, INT),
    ("installed_total", "Tổng số đã cài", 11, INT),
    ("coverage_pct", "Tỷ lệ cài / người dùng ĐTTM (%)", 12, PCT),
]
SUMMARY_LABELS = {
    "communes_with_data": "Số xã, phường, thị trấn đã có số liệu",
    "households": "Số hộ đã đến",
    "members": "Số nhân khẩu của các hộ",
    "smartphone_users": "Số người dùng điện thoại thông minh",
    "installed_total": "Số người đã cài Bluezone",
    "installed_during_visit": "Trong đó: cài khi cán bộ đến hộ",
    "coverage_pct": "Tỷ lệ đã cài / người dùng ĐTTM (%)",
    "target_pct": "Mục tiêu (% người dùng ĐTTM)",
    "target": "Số người cần cài để đạt mục tiêu",
    "gap": "Số người còn thiếu so với mục tiêu",
    "districts_below": "Số huyện, thành phố dưới mục tiêu",
    "agencies": "Số cơ quan, đơn vị phải báo cáo",
    "reported": "Số cơ quan, đơn vị đã báo cáo",
    "on_time": "Trong đó: đúng hạn",
    "late": "Trong đó: muộn",
    "missing": "Số cơ quan, đơn vị chưa báo cáo",
    "staff_total": "Tổng số cán bộ, công chức, viên chức, người lao động",
    "agency_smartphone_users": "Số cán bộ dùng điện thoại thông minh",
    "agency_installed": "Số cán bộ đã cài Bluezone",
    "agency_coverage_pct": "Tỷ lệ cán bộ đã cài / dùng ĐTTM (%)",
}


def _setup(ws: Worksheet, widths: list[int], header_row: int) -> None:
    """Column widths, frozen headings, A4 landscape one page wide, headings on every page."""
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1 if len(widths) < 3 else 3)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4


def _title(ws: Worksheet, text: str, subtitle: str, span: int) -> None:
    """Title and subtitle rows above a table, merged across it."""
    ws.append([text])
    ws.append([subtitle])
    ws.append([])
    ws.cell(row=1, column=1).font = _TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=span)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=span)


def _table(ws: Worksheet, headings: list[str], rows: list[list[Any]], formats: list[str | None],
           total: list[Any] | None) -> int:
    """Headings (bold, shaded, wrapped), rows with number formats, a bold totals row; the heading row."""
    ws.append(headings)
    header_row = ws.max_row
    ws.row_dimensions[header_row].height = 45
    for cell in ws[header_row]:
        cell.font, cell.fill, cell.alignment, cell.border = _BOLD, _HEAD_FILL, _WRAP, _BOX
    for values in rows + ([total] if total else []):
        ws.append(values)
        for cell, fmt in zip(ws[ws.max_row], formats):
            cell.border = _BOX
            if isinstance(cell.value, str) and cell.value[:1] in _FORMULA_FIRST:
                cell.data_type, cell.quotePrefix = "s", True  # text, never a formula
            if fmt:
                cell.number_format = fmt
    if total:
        for cell in ws[ws.max_row]:
            cell.font = _BOLD
    return header_row


def _headings() -> list[str]:
    """Headings of the household figure columns."""
    return [heading for _, heading, *_ in _FIGURES]


def _with_households(communes: list[dict]) -> int:
    """Communes that have sent at least one household."""
    return sum(1 for c in communes if c["households"])


def _meets(pct: float | None, target: int) -> str:
    """Whether a unit reached the target; no data is not reaching it."""
    return "Đạt" if pct is not None and pct >= target else "Chưa đạt"


def _summary(ws: Worksheet, data: dict) -> None:
    """The first sheet: the province against the target, the agencies, the deadlines."""
    p, a, s = data["province"], data["agency_totals"], data["settings"]
    target_pct = s.target_pct
    values = {
        "communes_with_data": f"{_with_households(data['communes'])} / {len(data['communes'])}",
        **{k: p[k] for k in ("households", "members", "smartphone_users", "installed_total",
                             "installed_during_visit", "coverage_pct")},
        "target_pct": target_pct, "target": data["target"],
        "gap": max(data["target"] - p["installed_total"], 0),
        "districts_below": sum(_meets(d["coverage_pct"], target_pct) != "Đạt" for d in data["districts"]),
        "agencies": a["agencies"], "reported": a["reported"], "on_time": a["on_time"], "late": a["late"],
        "missing": a["pending"] + a["overdue"], "staff_total": a["staff_total"],
        "agency_smartphone_users": a["smartphone_users"], "agency_installed": a["installed"],
        "agency_coverage_pct": a["coverage_pct"],
    }
    _title(ws, f"BÁO CÁO TÌNH HÌNH CÀI ĐẶT ỨNG DỤNG BLUEZONE TRÊN ĐỊA BÀN {p['name'].upper()}",
           f"Số liệu đến {data['generated_at']:%H:%M} ngày {data['generated_at']:%d/%m/%Y}", 2)
    rows: list[list[Any]] = [["A. Hộ gia đình (các xã, phường, thị trấn)", None]]
    keys = list(SUMMARY_LABELS)
    rows += [[SUMMARY_LABELS[k], values[k]] for k in keys[:11]]
    rows += [["B. Cơ quan, đơn vị báo cáo cán bộ cài đặt", None]]
    rows += [[SUMMARY_LABELS[k], values[k]] for k in keys[11:]]
    rows += [["C. Thời hạn", None],
             ["Ngày bắt đầu", s.start], ["Hạn cơ quan, đơn vị báo cáo", s.agency_deadline],
             ["Hạn báo cáo Chủ tịch UBND tỉnh", s.province_deadline]]
    header = _table(ws, ["Chỉ tiêu", "Số liệu"], rows, [None, None], None)
    for row in ws.iter_rows(min_row=header + 1):
        label, value = row
        if value.value is None:
            label.font = _BOLD
        elif isinstance(value.value, dt.date):
            value.number_format = DATE
        elif "(%)" in str(label.value):
            value.number_format = PCT
        elif isinstance(value.value, int):
            value.number_format = INT
        value.alignment = Alignment(horizontal="right")
    _setup(ws, [62, 18], header)


def _figures(row: dict, target: int) -> list[Any]:
    """A row's household figures, then whether it met the target."""
    return [row[k] for k, *_ in _FIGURES] + [_meets(row["coverage_pct"], target)]


def _total(rows: list[dict], label: str, target: int, lead: int) -> list[Any]:
    """A totals row: sums, coverage recomputed from the sums (never averaged)."""
    sums = {k: sum(r[k] for r in rows) for k, *_ in _FIGURES if k != "coverage_pct"}
    base = sums["smartphone_users"]
    sums["coverage_pct"] = coverage_pct(sums["installed_total"], base)
    return [None] * (lead - 1) + [label] + _figures(sums, target)


def _districts(ws: Worksheet, data: dict) -> None:
    """One row per district, with its communes with no household yet."""
    target = data["settings"].target_pct
    communes_of: dict[int, list[dict]] = {}
    for c in data["communes"]:
        communes_of.setdefault(c["district_code"], []).append(c)
    headings = ["Mã", "Huyện, thành phố", "Số xã", "Số xã chưa có hộ", *_headings(), "Mục tiêu"]
    rows = [[d["code"], d["name"], len(communes_of.get(d["code"], [])),
             sum(1 for c in communes_of.get(d["code"], []) if not c["households"]), *_figures(d, target)]
            for d in data["districts"]]
    total = _total(data["districts"], "Tổng cộng", target, 2)
    total[2:2] = [len(data["communes"]), len(data["communes"]) - _with_households(data["communes"])]
    _title(ws, "SỐ LIỆU THEO HUYỆN, THÀNH PHỐ", f"Mục tiêu: {target}% người dùng điện thoại thông minh",
           len(headings))
    formats = [None, None, INT, INT, *(f for *_, f in _FIGURES), None]
    header = _table(ws, headings, rows, formats, total)
    _setup(ws, [8, 24, 8, 10, *(w for _, _, w, _ in _FIGURES), 10], header)


def _communes(ws: Worksheet, data: dict) -> None:
    """One row per commune, empty ones included: the gaps are the point."""
    target = data["settings"].target_pct
    names = data["district_names"]
    headings = ["Mã xã", "Xã, phường, thị trấn", "Huyện, thành phố", *_headings(), "Mục tiêu"]
    rows = [[c["code"], c["name"], names[c["district_code"]], *_figures(c, target)] for c in data["communes"]]
    total = _total(data["communes"], "Tổng cộng", target, 3)
    _title(ws, "SỐ LIỆU THEO XÃ, PHƯỜNG, THỊ TRẤN", f"Mục tiêu: {target}% người dùng điện thoại thông minh",
           len(headings))
    formats = [None, None, None, *(f for *_, f in _FIGURES), None]
    header = _table(ws, headings, rows, formats, total)
    _setup(ws, [8, 26, 20, *(w for _, _, w, _ in _FIGURES), 10], header)


def _when(stamp: str | None) -> str:
    """A stamp as HH:MM dd/mm/yyyy in its own (the campaign's) offset."""
    return dt.datetime.fromisoformat(stamp).strftime("%H:%M %d/%m/%Y") if stamp else ""


def _agencies(ws: Worksheet, data: dict) -> None:
    """One row per agency: status by its first report, figures from its latest."""
    s, a = data["settings"], data["agency_totals"]
    headings = ["Mã", "Cơ quan, đơn vị", "Nhóm", "Tình trạng báo cáo", "Gửi lần đầu", "Số lần báo cáo",
                "Số liệu đến ngày", "Tổng số cán bộ", "Số dùng ĐTTM", "Số đã cài", "Tỷ lệ (%)",
                "Người báo cáo", "Điện thoại"]
    rows = [[r["code"], r["name"], data["groups"].get(r["group"], r["group"]), data["status_labels"][r["status"]],
             _when(r["first_submitted_at"]), r["versions"],
             dt.date.fromisoformat(r["reported_on"]) if r["reported_on"] else None,
             r["staff_total"], r["smartphone_users"], r["installed"], r["coverage_pct"],
             r["reporter_name"], r["reporter_phone"]] for r in data["agencies"]]
    total = [None, "Tổng cộng (các đơn vị đã báo cáo)", None, f"{a['reported']}/{a['agencies']} đã báo cáo",
             None, None, None, a["staff_total"], a["smartphone_users"], a["installed"], a["coverage_pct"],
             None, None]
    _title(ws, "CƠ QUAN, ĐƠN VỊ BÁO CÁO CÁN BỘ CÀI ĐẶT BLUEZONE",
           f"Hạn báo cáo: {s.agency_deadline:%d/%m/%Y}. Số liệu tính theo lần báo cáo mới nhất; "
           "tình trạng theo lần gửi đầu tiên.", len(headings))
    formats = [None, None, None, None, None, INT, DATE, INT, INT, INT, PCT, None, None]
    header = _table(ws, headings, rows, formats, total)
    _setup(ws, [11, 34, 18, 16, 16, 8, 11, 10, 10, 10, 8, 20, 14], header)


def province_report_xlsx(data: dict) -> bytes:
    """The workbook for ``reporting.province_report_data``'s data, as bytes."""
    wb = Workbook()
    builders = (_summary, _districts, _communes, _agencies)
    for n, (title, build) in enumerate(zip(SHEETS, builders)):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = title
        build(ws, data)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
