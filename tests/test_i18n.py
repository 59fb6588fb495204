"""The message catalogues: complete in both languages, compiled as written, asked for by key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from survey.i18n import LANGS, TRANSLATIONS, day, number, translate

SURVEY = Path(__file__).resolve().parents[1] / "survey"
ASKED = re.compile(r"""(?:\b_|gettext|translate)\(\s*["']([a-z_]+)["']\s*[,)]""")  # keys built with + aside


def _po(lang: str) -> dict[str, str]:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id}


@pytest.mark.parametrize("lang", LANGS)
def test_the_compiled_catalogue_says_what_the_po_file_says(lang):
    """A .po edited without `make translations` would show stale texts: this catches it."""
    compiled = Translations.load(str(TRANSLATIONS), [lang])
    assert {key: compiled.gettext(key) for key in _po(lang)} == _po(lang)


def test_both_languages_have_every_message_and_no_empty_one():
    vi, en = _po("vi"), _po("en")
    assert set(vi) == set(en)
    assert [k for k in vi if not vi[k] or not en[k]] == []


def test_every_key_asked_for_is_in_the_catalogue():
    """A key misspelt in a template or view would show as the bare key."""
    asked = set()
    for path in [*SURVEY.rglob("*.py"), *SURVEY.rglob("*.html")]:
        asked |= set(ASKED.findall(path.read_text(encoding="utf-8")))
    assert len(asked) > 50
    assert asked - set(_po("vi")) == set()


def test_placeholders_are_filled_in_either_language():
    assert translate("saved", "vi", name="Bùi Văn An", hamlet="Xóm Mới", count=3) == \
        "Đã lưu hộ Bùi Văn An (Xóm Mới). Đã ghi 3 hộ ở xã này."
    assert translate("target_line", "en", pct=50, count=10, gap=4).startswith("Target 50% of smartphone users")


@pytest.mark.parametrize(("value", "lang", "text"), [
    (78.9, "vi", "78,9"), (78.9, "en", "78.9"), (12345, "vi", "12.345"), (12345, "en", "12,345"),
    (1234.5, "vi", "1.234,5"), (None, "vi", "—")])
def test_numbers_are_written_as_each_language_writes_them(value, lang, text):
    assert number(value, lang) == text


def test_dates_are_day_month_year():
    import datetime as dt
    assert day(dt.date(2020, 8, 20), "vi") == day(dt.date(2020, 8, 20), "en") == "20/08/2020"


def test_the_page_language_follows_the_choice_vietnamese_first(client):
    """No choice: Vietnamese; ?lang=en switches and sticks for the session."""
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_templates_take_their_words_from_the_catalogue():
    """A phrase written inline in a template in two languages escapes the catalogue (and its checks)."""
    inline = re.compile(r"""\bif vi else\b|\{%-?\s*if vi\s*-?%\}|lang\(\) == ["']vi["'] else""")
    found = [f"{p.name}: {m.group(0)}" for p in SURVEY.rglob("*.html")
             for m in inline.finditer(p.read_text(encoding="utf-8"))]
    assert found == []


@pytest.mark.parametrize("lang", LANGS)
def test_every_column_heading_of_the_files_is_a_catalogue_entry(lang):
    """Headings are looked up as "heading_<column>" / "export_<column>": a bare key means a missing entry."""
    from survey.forms import load_form
    from survey.reporting.aggregate import column_headings, figure_columns
    from survey.reporting.tables import household_headings

    form = load_form(Path(__file__).resolve().parents[1] / "forms" / "household.json")
    columns = ["code", "name", "district_code", "district_name", "commune_code", "commune_name", *figure_columns(form)]
    headings = column_headings(form, columns, lang) + household_headings(form, lang)
    assert [h for h in headings if h.startswith(("heading_", "export_")) or not h.strip()] == []
    assert ("Số hộ đã đến" if lang == "vi" else "Households visited") in headings
    assert ("Thời điểm nhập" if lang == "vi" else "Created at") in headings
