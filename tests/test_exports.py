"""Downloads: CSV with BOM, XLSX a sheet per level, household lists for district and Department."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from exports.writers import safe_cell

from .conftest import household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


@pytest.fixture
def filled(api):
    for i, commune in enumerate([4789, 4789, 4792]):
        api.post("/api/v1/households", household(commune_code=commune, head_name=f"Bùi Văn {i}"), user="department")
    return api


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # Excel reads the BOM as UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_aggregates_csv_has_vietnamese_headings_and_every_commune(filled):
    r = filled.get("/exports/aggregates.csv?level=commune&district=148")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    rows = read_csv(r)
    assert rows[0][:3] == ["Mã", "Tên đơn vị", "Mã huyện"]
    assert len(rows) == 1 + 19
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["4789"][3] == "2" and by_code["4792"][3] == "1"


def test_aggregates_csv_agrees_with_the_api(filled):
    api_rows = filled.get("/api/v1/aggregates?level=district").get_json()["rows"]
    csv_rows = read_csv(filled.get("/exports/aggregates.csv?level=district"))
    assert [int(r[2]) for r in csv_rows[1:]] == [r["households"] for r in api_rows]


def test_aggregates_xlsx_has_a_sheet_per_level_and_a_totals_row(filled):
    r = filled.get("/exports/aggregates.xlsx")
    wb = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    assert wb.sheetnames == ["Toàn tỉnh", "Theo huyện", "Theo xã", "Theo thôn, xóm"]
    districts = list(wb["Theo huyện"].iter_rows(values_only=True))
    assert districts[0][0] == "Mã" and districts[-1][1] == "Tổng cộng"
    assert districts[-1][2] == 3 and len(districts) == 1 + 10 + 1


def test_english_headings_on_request(filled):
    rows = read_csv(filled.get("/exports/aggregates.csv?level=district&lang=en"))
    assert rows[0][:3] == ["Code", "Name", "Households visited"]


def test_household_csv_lists_each_record(filled):
    rows = read_csv(filled.get("/exports/households.csv?district=148"))
    assert rows[0][0] == "Mã phiếu" and len(rows) == 4
    assert {r[rows[0].index("Họ tên chủ hộ")] for r in rows[1:]} == {"Bùi Văn 0", "Bùi Văn 1", "Bùi Văn 2"}
    assert rows[1][rows[0].index("Lý do chưa cài")] == "Không có điện thoại thông minh"  # a label, not a code
    english = read_csv(filled.get("/exports/households.csv?district=148&lang=en"))
    assert english[1][english[0].index("Why not installed")] == "No smartphone"
    assert filled.get("/api/v1/households?district=148").get_json()["items"][0]["reasons_not_installed"] == [
        "no_smartphone"]


def test_household_xlsx_streams_every_record(filled):
    r = filled.get("/exports/households.xlsx")
    wb = load_workbook(io.BytesIO(r.get_data()), read_only=True)
    assert len(list(wb.active.iter_rows(values_only=True))) == 4


@pytest.mark.parametrize("user, status", [("officer", 403), ("district", 200), ("department", 200), (None, 401)])
def test_household_exports_are_for_district_and_department(filled, user, status):
    assert filled.get("/exports/households.csv", user=user).status_code == status


def test_district_staff_export_only_their_district(filled):
    assert filled.get("/exports/households.csv?district=150", user="district").status_code == 403
    rows = read_csv(filled.get("/exports/households.csv", user="district2"))
    assert len(rows) == 1


@pytest.mark.parametrize("value", ["=1+2", "+SUM(A1)", "-2+3", "@cmd"])
def test_formula_like_text_is_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_a_leading_tab_is_neutralised_on_both_sides():
    """Read as tab-separated, the tab starts a new cell: that cell is neutralised too."""
    assert safe_cell("\t=1") == "'\t'=1"


@pytest.mark.parametrize(("value", "safe"), [("Nguyễn;=1+1", "Nguyễn;'=1+1"), ("a, -1", "a, '-1"),
                                             ("x\t@y", "x\t'@y"), ("=a;+b", "'=a;'+b"),
                                             ("Xóm 3; số 7", "Xóm 3; số 7"), ("2020-08-16T08:00+07:00", None)])
def test_formula_triggers_after_any_separator_are_neutralised(value, safe):
    assert safe_cell(value) == (value if safe is None else safe)


def test_formula_injection_never_reaches_a_spreadsheet(api):
    api.post("/api/v1/households", household(head_name="=HYPERLINK(\"http://x\")", note="+1"))
    rows = read_csv(api.get("/exports/households.csv"))
    assert rows[1][rows[0].index("Họ tên chủ hộ")].startswith("'=")
    wb = load_workbook(io.BytesIO(api.get("/exports/households.xlsx").get_data()))
    cells = {c.value: c for c in wb.active[2]}
    assert cells["=HYPERLINK(\"http://x\")"].data_type == "s" and cells["+1"].quotePrefix
    assert all(c.data_type != "f" for c in wb.active[2])


def test_json_export(filled):
    r = filled.get("/exports/aggregates.json?level=province")
    assert r.get_json()["rows"][0]["households"] == 3
    assert len(filled.get("/exports/households.json").get_json()) == 3
