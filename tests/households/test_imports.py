"""Bulk import of paper forms: round trip with the export, idempotence, a report of bad rows."""

from __future__ import annotations

import csv
import io
import re
import shutil

import pytest
from openpyxl import load_workbook

from survey import create_app
from survey.demo import households_for

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

FORM_FIELDS = ["id", "commune_code", "hamlet", "head_name", "address", "members", "smartphone_users",
               "installed_before", "installed_during_visit", "reasons_not_installed", "visited_on", "note"]


@pytest.fixture
def demo(camp):
    for commune, records in households_for(camp.gazetteer, 300, seed=11):
        camp.households.bulk_insert(commune, records)
    return camp


@pytest.fixture
def empty_camp(tmp_path, accounts_dir):
    path = tmp_path / "other"
    shutil.copytree(accounts_dir, path)
    return create_app({"SURVEY_DATA_DIR": str(path), "SECRET_KEY": "t"}).extensions["survey"]


def content(camp) -> dict:
    return {r["id"]: {k: r.get(k) for k in FORM_FIELDS} for r in camp.households.records(camp.gazetteer.communes)}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_gives_the_same_data(demo, empty_camp, api, runner, tmp_path, fmt):
    path = tmp_path / f"ho.{fmt}"
    path.write_bytes(api.get(f"/exports/households.{fmt}").get_data())
    other = empty_camp
    other_runner = create_app({"SURVEY_DATA_DIR": str(other.data_dir), "SECRET_KEY": "t"}).test_cli_runner()
    r = other_runner.invoke(args=["import", str(path)])
    assert r.exit_code == 0, r.output
    assert content(other) == content(demo)
    again = other_runner.invoke(args=["import", str(path)])
    assert f"0 stored, {len(content(demo))} already there" in again.output
    assert content(other) == content(demo)


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_rows_without_id_are_stored_once_however_often_imported(runner, camp, tmp_path):
    path = tmp_path / "paper.csv"
    write_csv(path, [["Xã / phường / thị trấn", "Thôn / xóm / bản / tổ", "Họ tên chủ hộ", "Số nhân khẩu",
                      "Số người dùng điện thoại thông minh", "Đã cài Bluezone từ trước",
                      "Cài Bluezone khi cán bộ đến", "Lý do chưa cài", "Ngày đến hộ"],
                     ["4789", "Xóm Mới", "Bùi Văn An", "4", "2", "1", "1", "no_smartphone", "2020-08-14"],
                     ["4789", "Xóm Mới", "Đinh Thị Lan", "3", "1", "0", "1", "", "2020-08-14"]])
    assert "2 stored" in runner.invoke(args=["import", str(path)]).output
    assert "0 stored, 2 already there" in runner.invoke(args=["import", str(path)]).output
    assert camp.households.count([4789]) == 2


def test_bad_rows_are_reported_with_reasons_and_good_rows_stored(runner, camp, tmp_path):
    path = tmp_path / "paper.csv"
    write_csv(path, [["commune_code", "hamlet", "head_name", "members", "smartphone_users",
                      "installed_before", "installed_during_visit", "visited_on"],
                     ["4789", "Xóm Mới", "Bùi Văn An", "4", "2", "1", "1", "2020-08-11"],
                     ["4789", "Xóm Mới", "Hộ sai", "2", "3", "0", "0", "2020-08-11"],
                     ["1", "Xóm Mới", "Hộ tỉnh khác", "2", "1", "0", "0", "2020-08-11"],
                     ["4789", "", "Không thôn", "ba", "1", "0", "0", "2020-08-11"],
                     ["4789", "Xóm Mới", "Ngoài đợt", "2", "1", "0", "0", "2021-03-01"]])
    r = runner.invoke(args=["import", str(path)])
    assert r.exit_code == 1
    assert re.search(r"row 3: smartphone_users", r.output)
    assert re.search(r"row 4: commune_code", r.output)
    assert re.search(r"row 5: .*hamlet.*members|row 5: .*members.*hamlet", r.output)
    assert re.search(r"row 6: visited_on: .*Phải trong thời gian chiến dịch, từ 10/08/2020 đến 25/08/2020", r.output)
    assert "5 rows: 1 stored, 0 already there, 4 with errors" in r.output
    assert camp.households.count([4789]) == 1


@pytest.mark.parametrize("content, message", [
    (b"", "empty"), (b"\xff\xfe\x00bad", "UTF-8"), (b"a,b\n1,2\n", "no commune column"),
])
def test_unreadable_files_are_refused_with_a_reason(runner, tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    r = runner.invoke(args=["import", str(path)])
    assert r.exit_code != 0 and message in r.output


def test_unknown_columns_are_named(runner, tmp_path):
    path = tmp_path / "x.csv"
    write_csv(path, [["commune_code", "colour"], ["4789", "red"]])
    assert "unknown columns: colour" in runner.invoke(args=["import", str(path)]).output


def test_upload_page_imports_and_reports(browser, client, camp):
    browser.login("officer")
    token = browser.csrf("/import")
    data = ("commune_code,hamlet,head_name,members,smartphone_users,installed_before,installed_during_visit,"
            "visited_on\n4789,Xóm Mới,Bùi Văn An,4,2,1,1,2020-08-12\n4792,Xóm Mới,Ngoài xã,4,2,1,1,2020-08-12\n").encode()
    r = client.post("/import", data={"csrf_token": token, "file": (io.BytesIO(data), "paper.csv")},
                    content_type="multipart/form-data")
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Đã lưu 1 hộ mới" in page and "outside your area" in page
    assert camp.households.count([4789]) == 1


def test_template_has_vietnamese_headings_and_drop_downs(browser, client):
    browser.login("officer")
    wb = load_workbook(io.BytesIO(client.get("/import/template.xlsx").get_data()))
    ws = wb.worksheets[0]
    assert ws["A1"].value == "Mã phiếu" and ws["B1"].value == "Xã / phường / thị trấn"
    kinds = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "whole", "date"} <= kinds
    assert wb.worksheets[1]["A1"].value == 4789  # the officer's commune only


def test_district_staff_cannot_import(browser, client):
    browser.login("district")
    assert client.get("/import").status_code == 403
