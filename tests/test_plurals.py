"""English counts read right (one household, two households); Vietnamese has one form."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from survey.i18n import LANGS, TRANSLATIONS, ngettext


@pytest.mark.parametrize("key, one, many", [
    ("found", "1 household", "2 households"),
    ("to_fix", "1 record needs correction", "2 records need correction"),
    ("saved", "1 household recorded", "2 households recorded")])
def test_english_counts_agree_with_their_noun(app, key, one, many):
    params = {"name": "A", "hamlet": "B"}
    with app.test_request_context("/?lang=en"):
        assert one in ngettext(key, 1, n=1, count=1, **params)
        assert many in ngettext(key, 2, n=2, count=2, **params)


def _keys(lang: str) -> set[str]:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_every_singular_has_its_plural_and_both_languages():
    singulars = {lang: {k for k in _keys(lang) if k.endswith("_one")} for lang in LANGS}
    assert singulars["vi"] == singulars["en"] and len(singulars["en"]) >= 3
    for key in singulars["en"]:
        assert all(key[:-4] in _keys(lang) for lang in LANGS)


def test_the_saved_message_counts_in_the_page_language(client, browser, make_household):
    browser.login("officer")
    data = {k: v for k, v in make_household().items() if k != "reasons_not_installed"}
    data["csrf_token"] = browser.csrf("/form")
    page = client.post("/form?lang=en", data=data, follow_redirects=True).get_data(as_text=True)
    assert "1 household recorded in this commune" in page
