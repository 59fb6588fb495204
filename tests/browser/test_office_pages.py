"""The office's pages in Chromium at 360 px and 1366 px: key columns in view, the header on
one row, tap targets of 44 × 44 CSS px on a phone, and no failed request in the console.

Screenshots go to test-artifacts/screens/ (kept in the repository, shown in the README).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from survey.demo import agency_reports_for, households_for

from .conftest import ARTIFACTS
from .test_form_page import login

SCREENS = ARTIFACTS / "screens"
WIDTHS = {"phone": 360, "desktop": 1366}
# (account, path, screenshot name) of every page a person of the office opens.
PAGES = [("department", "/households", "households"),
         ("department", "/households?q=hoa", "households-search"),
         ("department", "/aggregates?level=commune", "aggregates-commune"),
         ("district", "/aggregates?level=hamlet", "aggregates-hamlet"),
         ("department", "/dashboard", "dashboard"),
         ("department", "/review", "review"),
         ("agency", "/agency-report", "agency-report"),
         ("officer", "/form", "form")]
# What a tap target may be smaller than 44 × 44: nothing on these pages but form controls'
# inner parts (the browser draws them) and links inside running text of a table-free paragraph.
TARGETS = ("header a, header button, main a, main button, main select, "
           "main input:not([type=hidden]):not([type=checkbox])")


@pytest.fixture
def office(camp):
    """About 1,500 households and the agencies' reports, as in the second week of a campaign."""
    for commune, records in households_for(camp.gazetteer, 1500, seed=5):
        camp.households.bulk_insert(commune, records)
    for report in agency_reports_for(camp.agencies.codes(), seed=5):
        stamp = report.pop("submitted_at")
        camp.agency_reports.add(report, "department", lambda stamp=stamp: stamp)
    return camp


def context_for(chromium, device: str):
    """A phone (touch, 360 px) or a 1366 px desktop, Vietnamese locale."""
    if device == "phone":
        return chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", is_mobile=True,
                                    has_touch=True, device_scale_factor=2)
    return chromium.new_context(viewport={"width": 1366, "height": 800}, locale="vi-VN")


def watch(page) -> list[str]:
    """Every failed request and console error the page produces, as text."""
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: failures.append(f"console: {m.text}") if m.type == "error" else None)
    return failures


def screenshot(page, name: str, device: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}-{WIDTHS[device]}.png"
    page.screenshot(path=str(path))  # what the first screen shows, small enough to keep
    return path


def small_targets(page) -> list[str]:
    """Visible tap targets under 44 × 44 CSS px, described."""
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)].filter(el => {
        const r = el.getBoundingClientRect(), s = getComputedStyle(el);
        return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && (r.width < 44 || r.height < 44);
      }).map(el => { const r = el.getBoundingClientRect();
        return `${el.tagName} "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}" `
               + `${Math.round(r.width)}x${Math.round(r.height)}`; })""",
                         TARGETS)


def header_rows(page) -> int:
    """How many rows the header's brand and links sit on."""
    return page.evaluate("""() => new Set([...document.querySelectorAll('header .brand, header nav > *')]
        .map(el => Math.round(el.getBoundingClientRect().top))).size""")


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_office_pages_fit_and_load_cleanly(office, live_server, chromium, device):
    context = context_for(chromium, device)
    width = WIDTHS[device]
    signed_in = None
    for account, path, name in PAGES:
        page = context.new_page()
        failures = watch(page)
        if account != signed_in:
            context.clear_cookies()
            login(page, live_server.url, account)
            page.wait_for_load_state()
            signed_in = account
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        screenshot(page, name, device)
        assert failures == [], (path, failures)
        assert header_rows(page) == 1, path
        assert page.locator("header").bounding_box()["height"] <= 60, path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path
        if device == "phone":
            assert small_targets(page) == [], path
        page.close()
    context.close()


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize("path, table", [("/aggregates?level=commune", "#figures"),
                                         ("/aggregates?level=hamlet", "#figures"),
                                         ("/households", "#household-table")])
def test_name_and_coverage_stay_in_view(office, live_server, chromium, device, path, table):
    context = context_for(chromium, device)
    page = context.new_page()
    login(page, live_server.url, "department")
    page.wait_for_load_state()
    page.goto(live_server.url + path)
    width = WIDTHS[device]
    first_row = page.locator(f"{table} tbody tr").first
    name, second = first_row.locator(":scope > *").nth(0), first_row.locator(":scope > *").nth(1)
    for cell in (name, second):  # the name and, beside it, the coverage (or the hamlet)
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (path, device, box)
    region = page.locator(f"{table}").locator("xpath=..")
    region.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    after, holder = name.bounding_box(), region.bounding_box()
    assert abs(after["x"] - holder["x"]) <= 1, (path, device, after, holder)  # the name column stays put
    assert name.inner_text().strip()
    context.close()


@pytest.mark.browser
@pytest.mark.server
def test_list_search_opens_a_record_with_its_send_back_form(office, live_server, phone):
    page = phone.new_page()
    login(page, live_server.url, "department")
    page.wait_for_load_state()
    page.goto(live_server.url + "/aggregates?level=commune")
    link = page.locator("#figures tbody a[href^='/households?commune=']").first
    commune = link.get_attribute("href").split("=")[1]
    link.click()
    page.wait_for_url(f"**/households?commune={commune}")
    count = office.households.count([int(commune)])
    assert page.inner_text("#found").startswith(f"{count:,}".replace(",", ".") + " hộ")
    page.locator("#household-table tbody a").first.click()
    page.wait_for_selector("#reason")
    assert page.locator("form[action$='/flag'] button").bounding_box()["height"] >= 44


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_agency_report_clears_after_sending_and_a_reload_sends_nothing(camp, live_server, chromium, device):
    context = context_for(chromium, device)
    page = context.new_page()
    failures = watch(page)
    login(page, live_server.url, "agency")
    page.wait_for_url("**/agency-report")
    for field, value in (("staff_total", "120"), ("smartphone_users", "100"), ("installed", "64"),
                         ("reporter_name", "Bùi Thị Lan"), ("reporter_phone", "0912 345 678")):
        page.fill(f"#{field}", value)
    page.click("button[type=submit].primary")
    page.wait_for_selector("#receipt")
    screenshot(page, "agency-sent", device)
    assert "Sở Y tế" in page.inner_text("#receipt") and "64" in page.inner_text("#receipt")
    assert page.input_value("#installed") == "" and page.input_value("#staff_total") == ""
    page.reload()
    page.wait_for_selector("#receipt")
    page.click("button[type=submit].primary")  # the emptied form is refused, not stored
    page.wait_for_selector(".flash.error")
    assert [r["installed"] for r in camp.agency_reports.versions(["SYT"])] == [64]
    table = page.locator("#history-table").bounding_box()
    name = page.locator("#history-table tbody tr th").first.bounding_box()
    assert name["x"] >= 0 and name["x"] + name["width"] <= WIDTHS[device] and table["x"] >= 0
    if device == "phone":
        assert small_targets(page) == []
    assert [f for f in failures if " 422 " not in f and not f.startswith("422 ")] == []
    context.close()
