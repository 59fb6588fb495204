"""axe-core (npm, pinned in tests/browser/axe) on every page, phone and desktop widths.

WCAG 2.0, 2.1 and 2.2 A and AA rules; any violation fails. axe is evaluated in the test browser
only (through the DevTools protocol, so the pages' Content-Security-Policy stays as served).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from survey.demo import households_for

from ..conftest import PASSWORD
from ..reporting.test_agency_reports import report

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PAGES = {
    None: ["/login"],
    "officer": ["/form", "/review", "/import", "/households/{record}", "/households/{record}/edit"],
    "district": ["/review", "/aggregates", "/aggregates?level=hamlet", "/dashboard"],
    "department": ["/dashboard", "/aggregates?level=commune", "/accounts", "/agencies", "/settings", "/import",
                   "/households/{record}"],
    "agency": ["/agency-report"],
}
WIDTHS = {"phone": 360, "desktop": 1366}


@pytest.fixture
def campaign(camp):
    """Households in every commune, one sent back for correction, agency reports."""
    for commune, records in households_for(camp.gazetteer, 300, seed=3):
        camp.households.bulk_insert(commune, records)
    record = next(iter(camp.households.records([4789])))
    camp.flags.flag(record, "Số nhân khẩu chưa đúng", "district", camp.stamp())
    camp.agency_reports.add(report(), "agency", camp.stamp)
    return record["id"]


def violations(page) -> list[str]:
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}}).then(r => r.violations)", TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(n["target"][0] for n in v["nodes"][:4])
            for v in found]


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_passes_axe(live_server, chromium, campaign, width):
    assert AXE.exists(), "run `make test` (npm ci in tests/browser/axe) to install axe-core"
    problems = {}
    for user, paths in PAGES.items():
        context = chromium.new_context(viewport={"width": WIDTHS[width], "height": 800}, locale="vi-VN")
        page = context.new_page()
        if user:
            page.goto(live_server.url + "/login")
            page.fill("#username", user)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(live_server.url + path.format(record=campaign), wait_until="networkidle")
            found = violations(page)
            if found:
                problems[f"{user} {path}"] = found
        context.close()
    assert problems == {}
