"""The streamed XLSX writer: what openpyxl reads back is what was written, formatted."""

from __future__ import annotations

import io

import openpyxl

from exports import writers


def read_back(sheets) -> openpyxl.Workbook:
    buf = io.BytesIO()
    writers.xlsx_sheets(sheets, buf)
    buf.seek(0)
    return openpyxl.load_workbook(buf)


def test_values_headings_and_layout_survive():
    rows = [["Xóm Mới & Bản Lác", 4, 12.5, None, "", "<b>"], ["=1+1", -3, 0, "x\x01y", "  lề  ", True]]
    wb = read_back([("Hộ gia đình", ["Thôn", "Số", "Tỷ lệ", "Ghi chú", "Trống", "Khác"], rows, [28, 14])])
    ws = wb["Hộ gia đình"]
    assert [c.value for c in ws[1]] == ["Thôn", "Số", "Tỷ lệ", "Ghi chú", "Trống", "Khác"]
    assert [c.value for c in ws[2]] == ["Xóm Mới & Bản Lác", 4, 12.5, None, None, "<b>"]
    assert [c.value for c in ws[3]] == ["=1+1", -3, 0, "xy", "  lề  ", True]
    assert ws["A3"].data_type == "s" and ws["A3"].quotePrefix and not ws["A2"].quotePrefix
    assert ws["A1"].font.b and not ws["A2"].font.b
    assert ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1"
    assert ws.column_dimensions["A"].width == 28 and ws.column_dimensions["B"].width == 14


def test_sheet_names_are_made_valid_and_distinct():
    long = "Tổng hợp theo huyện / thành phố: 2020"
    wb = read_back([(long, ["a"], [[1]], []), (long, ["b"], [[2]], []), ("", ["c"], iter([]), [])])
    assert len(wb.sheetnames) == 3 and len(set(wb.sheetnames)) == 3
    assert all(len(name) <= 31 and "/" not in name and ":" not in name for name in wb.sheetnames)
    assert wb.worksheets[1]["A2"].value == 2 and wb.worksheets[2].max_row == 1
