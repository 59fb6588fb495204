"""The streamed XLSX writer: what openpyxl reads back is what was written, formatted."""

from __future__ import annotations

import io

import openpyxl

from exports import writers, xlsx


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


def test_rows_past_a_worksheets_limit_go_on_in_continuation_sheets():
    """A worksheet holds 1,048,576 rows; the writer starts another, headings again, in order."""
    buf = io.BytesIO()
    rows = ([n, f"Hộ {n}"] for n in range(7))  # a generator, as exports stream them
    xlsx.write_workbook([("Hộ gia đình", ["Số", "Chủ hộ"], rows, []), ("Tổng", ["x"], [[1]], [])],
                        buf, rows_per_sheet=3)
    buf.seek(0)
    wb = openpyxl.load_workbook(buf)
    assert wb.sheetnames == ["Hộ gia đình", "Hộ gia đình (2)", "Hộ gia đình (3)", "Tổng"]
    parts = [[[c.value for c in row] for row in ws.iter_rows()] for ws in wb.worksheets[:3]]
    assert all(part[0] == ["Số", "Chủ hộ"] for part in parts)
    assert [row[0] for part in parts for row in part[1:]] == list(range(7))
    assert [len(part) - 1 for part in parts] == [3, 3, 1]
    assert wb.worksheets[3]["A2"].value == 1 and xlsx.SHEET_ROWS == 1_048_575


def test_exactly_a_worksheets_rows_make_one_sheet():
    buf = io.BytesIO()
    xlsx.write_workbook([("Hộ", ["Số"], [[n] for n in range(3)], [])], buf, rows_per_sheet=3)
    buf.seek(0)
    assert openpyxl.load_workbook(buf).sheetnames == ["Hộ"]
