"""English counts read right (one household, two households); Vietnamese has one form."""

from __future__ import annotations

import pytest

from survey.i18n import MESSAGES, ngettext


@pytest.mark.parametrize("key, one, many", [
    ("found", "1 household", "2 households"),
    ("to_fix", "1 record needs correction", "2 records need correction"),
    ("saved", "1 household recorded", "2 households recorded")])
def test_english_counts_agree_with_their_noun(app, key, one, many):
    params = {"name": "A", "hamlet": "B"}
    with app.test_request_context("/?lang=en"):
        assert one in ngettext(key, 1, n=1, count=1, **params)
        assert many in ngettext(key, 2, n=2, count=2, **params)


def test_every_singular_has_its_plural_and_both_languages():
    for key in (k for k in MESSAGES if k.endswith("_one")):
        assert key[:-4] in MESSAGES and set(MESSAGES[key]) == {"vi", "en"}


def test_the_saved_message_counts_in_the_page_language(client, browser, make_household):
    browser.login("officer")
    data = {k: v for k, v in make_household().items() if k != "reasons_not_installed"}
    data["csrf_token"] = browser.csrf("/form")
    page = client.post("/form?lang=en", data=data, follow_redirects=True).get_data(as_text=True)
    assert "1 household recorded in this commune" in page
