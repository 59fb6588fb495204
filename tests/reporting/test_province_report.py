"""The province report for the Chairman: reconciles with the API, formatted for printing."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from exports.province_report import SHEETS, SUMMARY_LABELS
from survey.demo import households_for

from .test_agency_reports import report

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

VN = ZoneInfo("Asia/Ho_Chi_Minh")
FIGURES = ["households", "members", "smartphone_users", "installed_before", "installed_during_visit",
           "installed_total", "coverage_pct"]


@pytest.fixture
def filled(camp, monkeypatch):
    for commune, records in households_for(camp.gazetteer, 500, seed=11):
        camp.households.bulk_insert(commune, records)
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 20, 23, 30, tzinfo=VN))
    camp.agency_reports.add(report(), "agency", camp.stamp)
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 21, 8, 0, tzinfo=VN))
    camp.agency_reports.add(report(agency_code="TINH-DOAN", staff_total=40, smartphone_users=38, installed=38),
                            "department", camp.stamp)
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 24, 16, 0, tzinfo=VN))
    return camp


@pytest.fixture
def workbook(filled, browser):
    browser.login("department")
    response = browser.client.get("/exports/province-report.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('bao-cao-tinh-2020-08-24.xlsx"')
    return load_workbook(io.BytesIO(response.data))


def table(ws, header_row: int = 4) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(min_row=header_row, values_only=True))
    return list(rows[0]), [r for r in rows[1:] if any(v is not None for v in r)]


def test_sheets_and_vietnamese_headings(workbook):
    assert workbook.sheetnames == list(SHEETS)
    headings, _ = table(workbook["Theo huyện"])
    assert headings[:2] == ["Mã", "Huyện, thành phố"] and "Tỷ lệ cài / người dùng ĐTTM (%)" in headings
    assert workbook["Tổng hợp"]["A1"].value.startswith("BÁO CÁO TÌNH HÌNH CÀI ĐẶT ỨNG DỤNG BLUEZONE")
    assert "ngày 24/08/2020" in workbook["Tổng hợp"]["A2"].value


def test_summary_reconciles_with_the_api(workbook, api):
    province = api.get("/api/v1/aggregates?level=province").json["rows"][0]
    agencies = api.get("/api/v1/agency-reports/summary").json["totals"]
    _, rows = table(workbook["Tổng hợp"])
    values = {label: value for label, value in rows}
    for key in ("households", "members", "smartphone_users", "installed_total", "installed_during_visit",
                "coverage_pct"):
        assert values[SUMMARY_LABELS[key]] == province[key], key
    assert values[SUMMARY_LABELS["target_pct"]] == 50
    assert values[SUMMARY_LABELS["target"]] == -(-province["smartphone_users"] * 50 // 100)
    assert values[SUMMARY_LABELS["agency_installed"]] == agencies["installed"] == 98
    assert (values[SUMMARY_LABELS["on_time"]], values[SUMMARY_LABELS["late"]]) == (1, 1)
    assert values[SUMMARY_LABELS["missing"]] == agencies["overdue"] == 37
    assert values["Hạn cơ quan, đơn vị báo cáo"].date() == dt.date(2020, 8, 20)


@pytest.mark.parametrize("sheet, level, lead", [("Theo huyện", "district", 4), ("Theo xã", "commune", 3)])
def test_unit_sheets_reconcile_with_the_api(workbook, api, sheet, level, lead):
    expected = api.get(f"/api/v1/aggregates?level={level}").json["rows"]
    headings, rows = table(workbook[sheet])
    *units, total = rows
    assert [r[0] for r in units] == [e["code"] for e in expected]
    for row, e in zip(units, expected):
        assert list(row[lead:lead + len(FIGURES)]) == [e[k] for k in FIGURES]
        assert row[-1] == ("Đạt" if e["coverage_pct"] is not None and e["coverage_pct"] >= 50 else "Chưa đạt")
    province = api.get("/api/v1/aggregates?level=province").json["rows"][0]
    assert total[1] == "Tổng cộng" or total[2] == "Tổng cộng"
    assert list(total[lead:lead + len(FIGURES)]) == [province[k] for k in FIGURES]


def test_agency_sheet_reconciles_with_the_api(workbook, api):
    summary = api.get("/api/v1/agency-reports/summary").json
    headings, rows = table(workbook["Cơ quan, đơn vị"])
    *agencies, total = rows
    assert [r[0] for r in agencies] == [r["code"] for r in summary["rows"]]
    by_code = {r[0]: dict(zip(headings, r)) for r in agencies}
    assert by_code["SYT"]["Tình trạng báo cáo"] == "Đúng hạn"        # 23:30 on 20/8, Vietnam time
    assert by_code["TINH-DOAN"]["Tình trạng báo cáo"] == "Muộn"
    assert by_code["STTTT"]["Tình trạng báo cáo"] == "Quá hạn, chưa báo cáo"
    assert by_code["SYT"]["Gửi lần đầu"] == "23:30 20/08/2020"
    assert by_code["TINH-DOAN"]["Nhóm"] == "Mặt trận, đoàn thể"
    assert total[7:10] == (summary["totals"]["staff_total"], summary["totals"]["smartphone_users"],
                           summary["totals"]["installed"])


def test_cells_are_formatted_for_printing(workbook):
    for ws in workbook:
        assert ws.freeze_panes in ("A5", "C5")
        assert ws.print_title_rows == "$4:$4"
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws["A4"].font.b
        assert all(ws.column_dimensions[c].width >= 8 for c in "AB")
    ws = workbook["Theo xã"]
    headings, _ = table(ws)
    households = headings.index("Số hộ đã đến") + 1
    coverage = headings.index("Tỷ lệ cài / người dùng ĐTTM (%)") + 1
    assert ws.cell(row=5, column=households).number_format == "#,##0"
    assert ws.cell(row=5, column=coverage).number_format == "0.0"
    assert workbook["Tổng hợp"].column_dimensions["A"].width >= 50


def test_only_the_department_downloads_it(browser):
    browser.login("district")
    assert browser.client.get("/exports/province-report.xlsx").status_code == 403


def test_the_cli_writes_the_same_report(filled, runner, api, tmp_path):
    out = tmp_path / "bao-cao.xlsx"
    result = runner.invoke(args=["report", "province", "--out", str(out)])
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    _, rows = table(wb["Theo huyện"])
    province = api.get("/api/v1/aggregates?level=province").json["rows"][0]
    assert rows[-1][4 + FIGURES.index("installed_total")] == province["installed_total"]


def test_agency_names_cannot_become_formulas(filled, browser):
    filled.agencies.save({"code": "XYZ", "name": "=HYPERLINK(\"x\")", "group": "department",
                          "district": None, "active": True})
    browser.login("department")
    wb = load_workbook(io.BytesIO(browser.client.get("/exports/province-report.xlsx").data))
    _, rows = table(wb["Cơ quan, đơn vị"])
    assert [r[1] for r in rows if r[0] == "XYZ"] == ["=HYPERLINK(\"x\")"]
    cell = next(c for row in wb["Cơ quan, đơn vị"].iter_rows() for c in row if c.value == "=HYPERLINK(\"x\")")
    assert cell.data_type == "s" and cell.quotePrefix  # text, shown without an apostrophe
