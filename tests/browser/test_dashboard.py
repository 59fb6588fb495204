"""The dashboard and the agency report in a real browser, on a phone and on a desktop."""

from __future__ import annotations

from survey.demo import agency_reports_for, households_for

from .test_form_page import login


def fill(camp) -> None:
    for commune, records in households_for(camp.gazetteer, 800, seed=3):
        camp.households.bulk_insert(commune, records)
    for report in agency_reports_for(camp.agencies.codes(), seed=3):
        stamp = report.pop("submitted_at")
        camp.agency_reports.add(report, "department", lambda stamp=stamp: stamp)


def test_dashboard_renders_on_a_phone(camp, live_server, phone, shot):
    fill(camp)
    page = phone.new_page()
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    login(page, live_server.url, "department")
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("svg.chart.bars")
    shot(page, "dashboard-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.locator("svg.chart.bars g.unit").count() == 10
    assert page.locator("svg.chart.line circle.day").count() >= 14
    chart = page.locator("svg.chart.bars").bounding_box()
    assert chart["width"] > 250              # the chart fills the phone's width, readable
    assert page.inner_text("h1").startswith("Theo dõi cài đặt Bluezone")
    assert blocked == []


def test_dashboard_renders_on_a_desktop(camp, live_server, chromium, shot):
    fill(camp)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    login(page, live_server.url, "district")
    page.goto(live_server.url + "/dashboard")
    page.wait_for_selector("svg.chart.bars")
    shot(page, "dashboard-desktop")
    assert page.locator("svg.chart.bars g.unit").count() == len(camp.gazetteer.communes_of[148])
    assert page.locator("[data-agency]").count() == 1
    context.close()


def test_agency_reports_from_a_phone(camp, live_server, phone, shot):
    page = phone.new_page()
    login(page, live_server.url, "agency")
    page.wait_for_url("**/agency-report")
    page.fill("#staff_total", "120")
    page.fill("#smartphone_users", "100")
    page.fill("#installed", "64")
    page.fill("#reporter_name", "Bùi Thị Lan")
    page.fill("#reporter_phone", "0912 345 678")
    shot(page, "agency-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("button[type=submit].primary")
    page.wait_for_selector("#receipt")
    shot(page, "agency-sent")
    assert "Sở Y tế" in page.inner_text("#receipt")
    assert page.input_value("#installed") == ""  # the form is cleared below the receipt
    assert [r["installed"] for r in camp.agency_reports.versions(["SYT"])] == [64]
