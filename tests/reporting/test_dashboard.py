"""The dashboard: every figure and chart mark agrees with the API, scoped by role."""

from __future__ import annotations

import datetime as dt
import random
import re
from zoneinfo import ZoneInfo

import pytest

from survey.demo import household as demo_household
from survey.demo import households_for
from survey.reporting.charts import coverage_bars, cumulative_line, number
from survey.reporting.dashboard import cumulative

from .test_agency_reports import report

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

VN = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def campaign_data(camp, monkeypatch):
    """A demo campaign of about 600 households, two agency reports, the clock on 22/8/2020."""
    for commune, records in households_for(camp.gazetteer, 600, seed=7):
        camp.households.bulk_insert(commune, records)
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 19, 10, 0, tzinfo=VN))
    camp.agency_reports.add(report(), "agency", camp.stamp)
    camp.agency_reports.add(report(agency_code="UBND-148", installed=10), "agency_district", camp.stamp)
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 22, 10, 0, tzinfo=VN))
    camp.agency_reports.add(report(agency_code="UBND-150", installed=30), "district2", camp.stamp)
    return camp


def page(browser, user: str, url: str = "/dashboard") -> str:
    browser.login(user)
    response = browser.client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def figures(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-figure="(\w+)" data-value="([^"]*)"', html))


def bars(html: str) -> dict[int, tuple[str, str]]:
    """code -> (state, coverage) for every bar of the coverage chart."""
    found = re.findall(r'<g class="unit (below|ok)" data-code="(\d+)" data-coverage="([^"]*)"', html)
    return {int(code): (state, pct) for state, code, pct in found}


def pct(value) -> str:
    return "" if value is None else str(value)


def test_department_dashboard_agrees_with_the_api(campaign_data, browser, api):
    html = page(browser, "department")
    province = api.get("/api/v1/aggregates?level=province").json["rows"][0]
    tiles = figures(html)
    for key in ("households", "smartphone_users", "installed_total"):
        assert int(tiles[key]) == province[key]
    assert tiles["coverage_pct"] == pct(province["coverage_pct"])
    districts = api.get("/api/v1/aggregates?level=district").json["rows"]
    drawn = bars(html)
    assert list(drawn) == [d["code"] for d in districts]
    for d in districts:
        below = d["coverage_pct"] is None or d["coverage_pct"] < 50
        assert drawn[d["code"]] == ("below" if below else "ok", pct(d["coverage_pct"]))
    days = re.findall(r'data-date="([\d-]+)" data-value="(\d+)"', html)
    assert days[0][0] == "2020-08-10" and days[-1][0] >= "2020-08-22"   # from the first day of the window
    assert int(days[-1][1]) == province["installed_total"]
    assert [int(v) for _, v in days] == sorted(int(v) for _, v in days)
    communes = api.get("/api/v1/aggregates?level=commune").json["rows"]
    empty = [int(c) for c in re.findall(r'<li data-code="(\d+)">', html)]
    assert empty == [c["code"] for c in communes if not c["households"]] and empty


def test_agency_statuses_agree_with_the_api(campaign_data, browser, api):
    html = page(browser, "department")
    totals = api.get("/api/v1/agency-reports/summary").json["totals"]
    shown = dict(re.findall(r'data-status="(\w+)">(\d+)<', html))
    assert {k: int(v) for k, v in shown.items()} == {s: totals[s] for s in ("on_time", "late", "pending", "overdue")}
    assert (totals["on_time"], totals["late"], totals["overdue"]) == (2, 1, 36)
    assert int(figures(html)["agency_installed"]) == totals["installed"] == 100
    assert 'data-agency="UBND-150"><td>UBND huyện Đà Bắc</td><td class="st-late">Muộn</td>' in html
    order = re.findall(r'data-agency="([\w-]+)"', html)
    assert order[-3:] == ["UBND-150", "SYT", "UBND-148"]      # overdue first, then late, on time last


def test_district_staff_see_their_communes(campaign_data, browser, api):
    html = page(browser, "district")
    communes = api.get("/api/v1/aggregates?level=commune", user="district").json["rows"]
    assert list(bars(html)) == [c["code"] for c in communes]
    district = api.get("/api/v1/aggregates?level=district", user="district").json["rows"][0]
    assert int(figures(html)["installed_total"]) == district["installed_total"]
    assert re.findall(r'data-agency="([\w-]+)"', html) == ["UBND-148"]
    assert "Thành phố Hòa Bình" in html


def test_department_drills_into_a_district(campaign_data, browser, api):
    html = page(browser, "department", "/dashboard?district=150")
    communes = api.get("/api/v1/aggregates?level=commune&district=150").json["rows"]
    assert {code: p for code, (_, p) in bars(html).items()} == {c["code"]: pct(c["coverage_pct"]) for c in communes}
    assert re.findall(r'data-agency="([\w-]+)"', html) == ["UBND-150"]


@pytest.mark.parametrize("user, url, status", [
    ("district", "/dashboard?district=150", 403), ("officer", "/dashboard", 403),
    ("agency", "/dashboard", 403), ("department", "/dashboard?district=1", 404),
])
def test_dashboard_scope_is_enforced(browser, user, url, status):
    browser.login(user)
    assert browser.client.get(url).status_code == status


def test_silent_communes_are_listed(camp, browser, monkeypatch):
    rng = random.Random(1)
    old = demo_household(4789, 148, "Xóm Mới", rng, "officer")
    old["created_at"] = "2020-08-15T09:00:00+07:00"
    recent = demo_household(4792, 148, "Xóm Mới", rng, "officer")
    recent["created_at"] = "2020-08-19T23:30:00+07:00"
    camp.households.bulk_insert(4789, [old])
    camp.households.bulk_insert(4792, [recent])
    monkeypatch.setattr(camp, "now", lambda: dt.datetime(2020, 8, 20, 9, 0, tzinfo=VN))
    html = page(browser, "district")
    stale = re.search(r'id="stale">(.*?)</section>', html, re.S).group(1)
    assert 'data-code="4789"' in stale and "15/08/2020" in stale
    assert 'data-code="4792"' not in stale            # sent yesterday evening: within 3 days
    empty = re.search(r'id="no-households">(.*?)</section>', html, re.S).group(1)
    assert 'data-code="4789"' not in empty and 'data-code="4795"' in empty


def test_cumulative_counts_early_visits_on_the_first_day_and_runs_to_the_end():
    series = cumulative({"2020-08-10": 2, "2020-08-13": 3, "2020-08-15": 1}, dt.date(2020, 8, 12), dt.date(2020, 8, 16))
    assert series == [(dt.date(2020, 8, d), n) for d, n in [(12, 2), (13, 5), (14, 5), (15, 6), (16, 6)]]


def test_bar_chart_marks_units_below_target_without_colour_alone():
    svg = coverage_bars([{"code": 1, "name": "Huyện Đà Bắc", "coverage_pct": 42.5, "installed_total": 5, "below": True},
                         {"code": 2, "name": "Xã <b>", "coverage_pct": None, "installed_total": 0, "below": True},
                         {"code": 3, "name": "Thành phố Hòa Bình", "coverage_pct": 70.0, "installed_total": 9, "below": False}],
                        50, "Tỷ lệ", "Mục tiêu", "dưới mục tiêu")
    assert "▼ 42,5%" in svg and "TP. Hòa Bình" in svg and ">Đà Bắc<" in svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert 'data-target="50"' in svg and "<script" not in svg


def test_line_chart_draws_the_target():
    svg = cumulative_line([(dt.date(2020, 8, 12), 0), (dt.date(2020, 8, 13), 40)], 30, "t", "Mục tiêu")
    assert 'data-target="30"' in svg and 'data-value="40"' in svg


def test_numbers_are_written_the_vietnamese_way():
    assert (number(12345), number(45.6), number(None), number(12345, "en")) == ("12.345", "45,6", "—", "12,345")


def test_an_axis_crossing_a_year_shows_the_year():
    days = [dt.date(2020, 12, 30) + dt.timedelta(days=n) for n in range(4)]
    svg = str(cumulative_line([(d, n) for n, d in enumerate(days)], 3, "t", "Mục tiêu"))
    assert ">30/12/2020<" in svg and ">02/01/2021<" in svg
    within = str(cumulative_line([(dt.date(2020, 8, 10), 0), (dt.date(2020, 8, 11), 1)], 3, "t", "Mục tiêu"))
    assert ">10/08<" in within and "/2020<" not in within
