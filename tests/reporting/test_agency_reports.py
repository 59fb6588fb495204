"""Agency staff reports: the form's rules, versions, scope, and the summary the API gives."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def report(**changes) -> dict:
    """A valid report of the Department of Health (SYT)."""
    body = {"id": str(uuid.uuid4()), "agency_code": "SYT", "staff_total": 120, "smartphone_users": 100,
            "installed": 60, "reported_on": "2020-08-18", "reporter_name": "Bùi Thị Lan",
            "reporter_phone": "0912 345 678"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def at(camp, monkeypatch):
    """Set the campaign clock to a Vietnam wall-clock time."""
    def set_clock(*args: int) -> None:
        moment = dt.datetime(*args, tzinfo=VN)
        monkeypatch.setattr(camp, "now", lambda: moment)
    set_clock(2020, 8, 18, 9, 0)
    return set_clock


def test_agency_reports_its_figures(api, at):
    response = api.post("/api/v1/agency-reports", report(agency_code=...), user="agency")
    assert response.status_code == 201, response.json
    stored = response.json
    assert stored["agency_code"] == "SYT" and stored["version"] == 1
    assert stored["submitted_at"] == "2020-08-18T09:00:00+07:00"
    assert stored["account"] == "agency"


@pytest.mark.parametrize("changes, field", [
    ({"smartphone_users": 121}, "smartphone_users"),
    ({"installed": 101}, "installed"),
    ({"staff_total": 0}, "staff_total"),
    ({"staff_total": "120"}, "staff_total"),
    ({"reporter_phone": "call me"}, "reporter_phone"),
    ({"reporter_name": ...}, "reporter_name"),
    ({"agency_code": "NOPE"}, "agency_code"),
    ({"reported_on": "2020-08-19"}, "reported_on"),
])
def test_report_rules_are_checked_by_the_form(api, at, changes, field):
    response = api.post("/api/v1/agency-reports", report(**changes), user="department")
    assert response.status_code == 422
    assert field in response.json["fields"]


def test_rule_messages_follow_the_language(api, at):
    body = report(smartphone_users=130)
    vi = api.post("/api/v1/agency-reports?lang=vi", body, user="agency").json
    assert vi["fields"]["smartphone_users"] == ["Không được lớn hơn tổng số cán bộ"]


def test_a_later_report_replaces_the_earlier_in_totals_and_both_are_kept(api, at):
    api.post("/api/v1/agency-reports", report(installed=40), user="agency")
    at(2020, 8, 19, 10, 0)
    second = api.post("/api/v1/agency-reports", report(installed=70), user="agency").json
    assert second["version"] == 2
    versions = api.get("/api/v1/agency-reports?agency=SYT").json["items"]
    assert [(v["installed"], v["current"]) for v in versions] == [(40, False), (70, True)]
    summary = api.get("/api/v1/agency-reports/summary?agency=SYT").json
    row = summary["rows"][0]
    assert (row["installed"], row["versions"], row["coverage_pct"]) == (70, 2, 70.0)
    assert row["first_submitted_at"] == "2020-08-18T09:00:00+07:00"
    assert summary["totals"]["installed"] == 70


def test_a_retry_with_the_same_id_stores_one_version(api, at):
    body = report()
    assert api.post("/api/v1/agency-reports", body, user="agency").status_code == 201
    assert api.post("/api/v1/agency-reports", body, user="agency").status_code == 200
    assert api.post("/api/v1/agency-reports", {**body, "installed": 1}, user="agency").status_code == 409
    assert api.get("/api/v1/agency-reports").json["total"] == 1


def test_an_agency_reports_only_for_itself(api, at):
    assert api.post("/api/v1/agency-reports", report(agency_code="STTTT"), user="agency").status_code == 403
    assert api.post("/api/v1/agency-reports", report(), user="officer").status_code == 403
    # a district reports for its People's Committee, not for a department
    assert api.post("/api/v1/agency-reports", report(agency_code="UBND-148"), user="district").status_code == 201
    assert api.post("/api/v1/agency-reports", report(), user="district").status_code == 403
    # the Department takes reports of any agency that phones them in
    assert api.post("/api/v1/agency-reports", report(agency_code="STTTT"), user="department").status_code == 201


def test_lists_are_scoped(api, at):
    api.post("/api/v1/agency-reports", report(), user="agency")
    api.post("/api/v1/agency-reports", report(agency_code="UBND-148"), user="agency_district")
    assert {d["agency_code"] for d in api.get("/api/v1/agency-reports", user="agency").json["items"]} == {"SYT"}
    assert [r["code"] for r in api.get("/api/v1/agency-reports/summary", user="district").json["rows"]] == ["UBND-148"]
    assert api.get("/api/v1/agency-reports", user="officer").status_code == 403
    assert api.get("/api/v1/agency-reports?agency=SYT", user="district").status_code == 403
    assert api.get("/api/v1/agency-reports?agency=NOPE", user="department").status_code == 404
    everyone = api.get("/api/v1/agency-reports/summary").json
    assert len(everyone["rows"]) == 39
    assert everyone["totals"]["reported"] == 2


def test_registry_has_every_kind_of_reporting_body(camp):
    agencies = camp.agencies.all()
    names = {a["name"] for a in agencies.values()}
    assert {"Sở Thông tin và Truyền thông", "Sở Y tế", "Tỉnh Đoàn Hòa Bình"} <= names
    districts = [a["district"] for a in agencies.values() if a["group"] == "district"]
    assert sorted(districts) == sorted(camp.gazetteer.districts)


def test_a_pattern_needs_its_message_in_both_languages(tmp_path):
    import json

    from survey.forms import load_form
    raw = json.loads(open("forms/agency_report.json", encoding="utf-8").read())
    phone = next(f for f in raw["fields"] if f["name"] == "reporter_phone")
    del phone["pattern_message"]["en"]
    path = tmp_path / "form.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="pattern_message"):
        load_form(path)


def test_agency_codes_follow_the_registry(api, camp, at):
    camp.agencies.save({"code": "BHXH", "name": "Bảo hiểm xã hội tỉnh", "group": "department",
                        "district": None, "active": True})
    assert api.post("/api/v1/agency-reports", report(agency_code="BHXH"), user="department").status_code == 201
    camp.agencies.save({**camp.agencies.all()["BHXH"], "active": False})
    assert api.post("/api/v1/agency-reports", report(agency_code="BHXH"), user="department").status_code == 422
