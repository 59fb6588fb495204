"""Figures follow the page's language: 78,9 and 1.234 in Vietnamese, 78.9 and 1,234 in English."""

from __future__ import annotations

import re

from survey.demo import households_for


def cells(page: str) -> list[str]:
    return re.findall(r'<td class="n">(?:<a [^>]+>)?([^<]+)', page)


def test_aggregates_and_list_write_numbers_in_the_page_language(camp, client, browser):
    for commune, records in households_for(camp.gazetteer, 3000, seed=9):
        camp.households.bulk_insert(commune, records)
    browser.login("department")
    vi = client.get("/aggregates?level=district&lang=vi").get_data(as_text=True)
    en = client.get("/aggregates?level=district&lang=en").get_data(as_text=True)
    for page, decimal, wrong in ((vi, r"\d+,\d", r"\d+\.\d"), (en, r"\d+\.\d", r"\d+,\d")):
        assert any(re.fullmatch(decimal, c) for c in cells(page))
        assert not any(re.fullmatch(wrong, c) for c in cells(page))
    assert any(re.fullmatch(r"\d{1,3}(\.\d{3})+", c) for c in cells(vi))  # thousands: 1.234
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+", c) for c in cells(en))
    total = camp.households.count(camp.gazetteer.communes)
    assert f'{total:,} households' in client.get("/households?lang=en").get_data(as_text=True)
    assert f'{total:,} hộ'.replace(",", ".") in client.get("/households?lang=vi").get_data(as_text=True)
