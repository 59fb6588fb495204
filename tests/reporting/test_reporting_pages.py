"""Pages and files around agency reports: the report form, settings, the agency registry."""

from __future__ import annotations

import csv
import io
import re

import pytest

from survey import create_app

from ..conftest import PASSWORD

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def csrf(client, path: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


REPORT = {"staff_total": "85", "smartphone_users": "70", "installed": "41", "reporter_name": " Quách  Thị Mai ",
          "reporter_phone": "0218 385 2123"}


def test_agency_logs_in_to_its_report_form(browser):
    response = browser.login("agency")
    assert response.headers["Location"] == "/agency-report"
    html = browser.client.get("/agency-report").get_data(as_text=True)
    assert '<option value="SYT" selected>Sở Y tế</option>' in html
    assert 'inputmode="tel"' in html and "Tổng hợp" not in html


def test_agency_sends_a_report_and_sees_it_listed(browser, camp):
    browser.login("agency")
    form = browser.client.get("/agency-report").get_data(as_text=True)
    record_id = re.search(r'name="id" value="([^"]+)"', form).group(1)
    data = {**REPORT, "id": record_id, "agency_code": "SYT", "csrf_token": csrf(browser.client, "/agency-report")}
    response = browser.client.post("/agency-report", data=data, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Đã nhận báo cáo lần 1 của Sở Y tế." in html
    stored = camp.agency_reports.versions(["SYT"])
    assert [(r["installed"], r["reporter_name"], r["id"]) for r in stored] == [(41, "Quách Thị Mai", record_id)]
    # the receipt shows above an empty form under a new id: a second tap cannot send the figures again
    receipt = re.search(r'<section class="card receipt" id="receipt" role="status">(.*?)</section>', html, re.S).group(1)
    assert "lần 1" in receipt and "85" in receipt and "41" in receipt
    form = html[html.index('id="agency-report-form"'):]
    assert 'value="85"' not in form and 'value="41"' not in form
    assert record_id not in re.search(r'name="id" value="([^"]+)"', form).group(1)
    assert response.request.path == "/agency-report" and response.request.args["sent"] == record_id
    # a later visit starts from the latest figures, to correct them
    assert 'value="85"' in browser.client.get("/agency-report").get_data(as_text=True)


def test_a_second_tap_on_the_same_page_stores_one_version(browser, camp):
    browser.login("agency")
    form = browser.client.get("/agency-report").get_data(as_text=True)
    record_id = re.search(r'name="id" value="([^"]+)"', form).group(1)
    data = {**REPORT, "id": record_id, "agency_code": "SYT", "csrf_token": csrf(browser.client, "/agency-report")}
    first = browser.client.post("/agency-report", data=data)
    second = browser.client.post("/agency-report", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == f"/agency-report?sent={record_id}"
    assert len(camp.agency_reports.versions(["SYT"])) == 1
    after = browser.client.get(second.headers["Location"]).get_data(as_text=True)
    empty = browser.client.post("/agency-report", data={"id": re.search(r'name="id" value="([^"]+)"', after).group(1),
                                                        "agency_code": "SYT", "csrf_token": data["csrf_token"]})
    assert empty.status_code == 422 and len(camp.agency_reports.versions(["SYT"])) == 1


def test_report_form_errors_are_shown_on_their_field(browser, camp):
    browser.login("agency")
    data = {**REPORT, "installed": "80", "agency_code": "SYT", "csrf_token": csrf(browser.client, "/agency-report")}
    response = browser.client.post("/agency-report", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Không được lớn hơn số người dùng điện thoại thông minh" in html
    assert camp.agency_reports.versions(["SYT"]) == []


def test_an_agency_cannot_send_for_another(browser, camp):
    browser.login("agency")
    data = {**REPORT, "agency_code": "STTTT", "csrf_token": csrf(browser.client, "/agency-report")}
    assert browser.client.post("/agency-report", data=data).status_code == 403
    assert camp.agency_reports.versions(["STTTT"]) == []


def test_officers_have_no_agency_pages(browser):
    browser.login("officer")
    assert browser.client.get("/agency-report").status_code == 403
    assert browser.client.get("/exports/agency-reports.csv").status_code == 403


def test_department_sets_the_campaign_and_every_worker_sees_it(browser, app_config):
    browser.login("department")
    token = csrf(browser.client, "/settings")
    values = {"start": "2020-08-10", "end": "2020-08-25", "agency_deadline": "2020-08-21", "province_deadline": "2020-08-26",
              "target_pct": "60", "stale_days": "2", "csrf_token": token}
    response = browser.client.post("/settings", data=values, follow_redirects=True)
    assert "Đã lưu cài đặt." in response.get_data(as_text=True)
    other = create_app(app_config).extensions["survey"]
    stored = other.settings.get()
    assert (stored.agency_deadline.isoformat(), stored.target_pct, stored.updated_by) == ("2020-08-21", 60, "department")


@pytest.mark.parametrize("changes, field, message", [
    ({"agency_deadline": "2020-08-01"}, "agency_deadline", "Hạn báo cáo không được trước ngày bắt đầu."),
    ({"province_deadline": "2020-08-19"}, "province_deadline", "Hạn báo cáo tỉnh không được trước hạn"),
    ({"target_pct": "0"}, "target_pct", "Phải từ 1 đến 100."),
    ({"start": "20/08/2020"}, "start", "Ngày không hợp lệ (YYYY-MM-DD)."),
    ({"stale_days": "ba"}, "stale_days", "Phải là số nguyên."),
    ({"start": "0001-01-01"}, "start", "Phải từ 01/01/2020 đến 31/12/2099."),
    ({"end": "2020-08-01"}, "end", "Ngày kết thúc không được trước ngày bắt đầu."),
    ({"end": "2099-08-01"}, "end", "Phải từ 01/01/2020 đến 13/08/2021."),
    ({"province_deadline": "2030-01-01"}, "province_deadline", "Phải từ 01/01/2020 đến 13/08/2021."),
])
def test_settings_are_validated(browser, camp, changes, field, message):
    browser.login("department")
    values = {"start": "2020-08-12", "end": "2020-08-25", "agency_deadline": "2020-08-20", "province_deadline": "2020-08-25",
              "target_pct": "50", "stale_days": "3", **changes, "csrf_token": csrf(browser.client, "/settings")}
    response = browser.client.post("/settings", data=values)
    assert response.status_code == 422
    block = re.search(rf'data-field="{field}">(.*?)</div>', response.get_data(as_text=True), re.S).group(1)
    assert 'class="err"' in block and message in block
    assert camp.settings.get().updated_at is None


@pytest.mark.parametrize("user", ["district", "agency", "officer"])
def test_only_the_department_changes_settings(browser, user):
    browser.login(user)
    assert browser.client.get("/settings").status_code == 403
    assert browser.client.get("/agencies").status_code == 403


def test_department_adds_renames_and_retires_agencies(browser, camp, runner):
    browser.login("department")
    add = {"code": "BHXH", "name": "Bảo hiểm xã hội tỉnh", "group": "department", "district": "", "active": "on",
           "csrf_token": csrf(browser.client, "/agencies")}
    assert browser.client.post("/agencies", data=add).status_code == 302
    assert "BHXH" in camp.agencies.codes()
    result = runner.invoke(args=["users", "add", "bhxh", "--role", "agency", "--unit", "BHXH", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    retire = {"code": "SCT", "name": "Sở Công Thương", "group": "department", "district": "",
              "csrf_token": csrf(browser.client, "/agencies")}
    browser.client.post("/agencies", data=retire)
    assert "SCT" not in camp.agencies.codes() and camp.agencies.all()["SCT"]["active"] is False
    bad = {"code": "bad code", "name": "", "group": "nope", "district": "999",
           "csrf_token": csrf(browser.client, "/agencies")}
    response = browser.client.post("/agencies", data=bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Mã gồm 2–20 chữ in hoa" in html and "Không phải mã huyện, thành phố của tỉnh." in html
    assert "bad code" not in camp.agencies.all()


def test_agency_accounts_need_a_registered_agency(runner):
    result = runner.invoke(args=["users", "add", "cq-x", "--role", "agency", "--unit", "NOPE", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code != 0 and "reporting agency" in result.output
    result = runner.invoke(args=["users", "add", "xa-x", "--role", "officer", "--unit", "4789", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output


def test_agency_reports_download_as_csv(api, browser):
    api.post("/api/v1/agency-reports", {"agency_code": "SYT", "staff_total": 10, "smartphone_users": 8, "installed": 4,
                                        "reporter_name": "Lò Văn Sơn", "reporter_phone": "0912345678"}, user="agency")
    browser.login("department")
    response = browser.client.get("/exports/agency-reports.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Mã", "Cơ quan, đơn vị", "Nhóm", "Tình trạng"]
    syt = next(r for r in rows if r[0] == "SYT")
    assert syt[10:12] == ["4", "50.0"] and len(rows) == 40


def test_agency_accounts_see_no_household_figures(browser, api):
    browser.login("agency")
    assert browser.client.get("/aggregates").status_code == 403
    assert browser.client.get("/exports/aggregates.xlsx").status_code == 403
    assert browser.client.get("/exports/households.csv").status_code == 403
    assert api.get("/api/v1/aggregates?level=province", user="agency").status_code == 403
    assert api.get("/api/v1/households", user="agency").json["total"] == 0


def test_department_creates_an_agency_account_on_the_accounts_page(browser, camp):
    browser.login("department")
    data = {"username": "cq-stttt", "full_name": "Hà Thị Vân", "role": "agency", "unit": "stttt",
            "csrf_token": csrf(browser.client, "/accounts")}
    assert browser.client.post("/accounts", data=data).status_code == 200
    assert (camp.users.load("cq-stttt").role, camp.users.load("cq-stttt").unit) == ("agency", "STTTT")
    bad = {**data, "username": "cq-x", "unit": "NOPE"}
    assert browser.client.post("/accounts", data=bad).status_code == 422
    assert not camp.users.exists("cq-x")


def test_cli_exports_the_agency_table(runner, api, tmp_path):
    api.post("/api/v1/agency-reports", {"agency_code": "TINH-DOAN", "staff_total": 30, "smartphone_users": 30,
                                        "installed": 27, "reporter_name": "Đinh Công Nam",
                                        "reporter_phone": "+84 912 345 678"}, user="department")
    out = tmp_path / "co-quan.csv"
    result = runner.invoke(args=["export", "agency-reports", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    doan = next(r for r in rows if r[0] == "TINH-DOAN")
    assert doan[1:3] == ["Tỉnh Đoàn Hòa Bình", "Mặt trận, đoàn thể"] and doan[10:12] == ["27", "90.0"]


def test_openapi_describes_agency_reports(client):
    spec = client.get("/api/openapi.json").json
    assert {"/api/v1/agency-reports", "/api/v1/agency-reports/summary"} <= set(spec["paths"])
    assert "reporter_phone" in spec["components"]["schemas"]["AgencyReportInput"]["properties"]
