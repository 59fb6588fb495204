"""On time, late, pending and overdue around the 20/8/2020 deadline, in Vietnam time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from survey.reporting.agency_reports import timeliness

from .test_agency_reports import report

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = dt.date(2020, 8, 20)
NOW = dt.datetime(2020, 8, 22, 8, 0, tzinfo=VN)


@pytest.mark.parametrize("submitted, status", [
    ("2020-08-20T23:30:00+07:00", "on_time"),     # late evening on the day is still on time
    ("2020-08-20T16:30:00+00:00", "on_time"),     # the same moment stamped in UTC
    ("2020-08-20T23:59:59+07:00", "on_time"),
    ("2020-08-21T00:00:00+07:00", "late"),
    ("2020-08-20T17:00:00+00:00", "late"),        # 00:00 on 21/8 in Vietnam, still 20/8 in UTC
    ("2020-08-12T08:00:00+07:00", "on_time"),
])
def test_the_deadline_day_is_judged_in_vietnam_time(submitted, status):
    assert timeliness(submitted, DEADLINE, NOW) == status


@pytest.mark.parametrize("now, status", [
    (dt.datetime(2020, 8, 20, 23, 59, tzinfo=VN), "pending"),
    (dt.datetime(2020, 8, 20, 17, 30, tzinfo=dt.UTC).astimezone(VN), "overdue"),
    (dt.datetime(2020, 8, 21, 0, 0, tzinfo=VN), "overdue"),
])
def test_no_report_is_pending_until_the_day_ends(now, status):
    assert timeliness(None, DEADLINE, now) == status


def status_of(api, code="SYT"):
    rows = api.get(f"/api/v1/agency-reports/summary?agency={code}").json["rows"]
    return rows[0]["status"]


def test_a_report_at_2330_on_the_deadline_day_is_on_time(api, camp, monkeypatch):
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 20, 23, 30, tzinfo=VN))
    assert api.post("/api/v1/agency-reports", report(), user="agency").status_code == 201
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 24, 9, 0, tzinfo=VN))
    assert status_of(api) == "on_time"


def test_a_report_after_midnight_is_late_and_a_correction_keeps_the_first_status(api, camp, monkeypatch):
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 21, 0, 30, tzinfo=VN))
    api.post("/api/v1/agency-reports", report(), user="agency")
    assert status_of(api) == "late"
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 19, 9, 0, tzinfo=VN))
    api.post("/api/v1/agency-reports", report(agency_code="STTTT"), user="department")
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 23, 9, 0, tzinfo=VN))
    api.post("/api/v1/agency-reports", report(agency_code="STTTT", installed=90), user="department")
    assert status_of(api, "STTTT") == "on_time"


def test_summary_counts_each_status(api, camp, monkeypatch):
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 20, 10, 0, tzinfo=VN))
    api.post("/api/v1/agency-reports", report(), user="agency")
    totals = api.get("/api/v1/agency-reports/summary").json["totals"]
    assert (totals["on_time"], totals["pending"], totals["overdue"]) == (1, 38, 0)
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 21, 10, 0, tzinfo=VN))
    api.post("/api/v1/agency-reports", report(agency_code="UBND-148"), user="agency_district")
    totals = api.get("/api/v1/agency-reports/summary").json["totals"]
    assert (totals["on_time"], totals["late"], totals["pending"], totals["overdue"]) == (1, 1, 0, 37)


def test_the_deadline_follows_the_settings(api, camp, monkeypatch):
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 21, 10, 0, tzinfo=VN))
    api.post("/api/v1/agency-reports", report(), user="agency")
    assert status_of(api) == "late"
    settings = camp.settings.get().as_dict()
    camp.settings.save({**{k: settings[k] for k in ("start", "province_deadline", "target_pct", "stale_days")},
                        "agency_deadline": "2020-08-21"}, "department", camp.stamp())
    assert status_of(api) == "on_time"
