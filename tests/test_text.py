"""Unicode rules: what is stored, what counts as one place, what a search matches."""

import unicodedata

import pytest

from survey.text import bad_characters, classic_tones, clean, fold, place_key


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def test_clean_gives_nfc_trimmed_single_spaced():
    assert clean(nfd("  Xóm   Mới ")) == unicodedata.normalize("NFC", "Xóm Mới")
    assert unicodedata.is_normalized("NFC", clean(nfd("Hoà Bình")))


def test_clean_multiline_keeps_line_breaks():
    assert clean(" a  b \n  c ", multiline=True) == "a b\nc"


@pytest.mark.parametrize("a, b", [
    ("Hòa Bình", "Hoà Bình"), ("Thủy", "Thuỷ"), ("Xóm  Mới", "xóm mới"),
    ("Hòa Bình", nfd("Hoà Bình")), ("BẢN LÁC", "bản lác"),
])
def test_same_place_whatever_case_spacing_form_or_tone_placement(a, b):
    assert place_key(a) == place_key(b)


@pytest.mark.parametrize("a, b", [("Bản Lác", "Bản Lạc"), ("Xóm Mới", "Xóm Moi"), ("Hòa", "Hỏa")])
def test_different_accents_stay_different_places(a, b):
    assert place_key(a) != place_key(b)


def test_fold_ignores_accents_and_d_stroke():
    assert fold("Thị trấn Đà Bắc") == "thi tran da bac"
    assert fold(nfd("Hoà Bình")) == fold("Hòa Bình") == "hoa binh"


def test_bad_characters_are_named():
    assert bad_characters("ab\u202ec") == ["U+202E"]
    assert bad_characters("a\u200bb\x00") == ["U+0000", "U+200B"]
    assert bad_characters("Nguyễn Văn A\nline two\t") == []


@pytest.mark.parametrize("given, shown", [("Tỉnh Hoà Bình", "Tỉnh Hòa Bình"), ("Huyện Yên Thuỷ", "Huyện Yên Thủy"),
                                          ("Xã Săm Khoé", "Xã Săm Khóe"), ("Xã Quý Hòa", "Xã Quý Hòa"),
                                          ("Quỳnh", "Quỳnh"), ("Hoàng", "Hoàng"), ("HOÀ", "HÒA")])
def test_classic_tones_gives_one_spelling(given, shown):
    assert classic_tones(given) == shown


def test_every_unit_of_the_gazetteer_is_spelt_one_way(app):
    camp = app.extensions["survey"]
    gaz = camp.gazetteer
    names = [gaz.province.name, *(u.name for u in gaz.districts.values()), *(u.name for u in gaz.communes.values())]
    assert gaz.province.name == "Tỉnh Hòa Bình"
    assert all(classic_tones(n) == n for n in names)


def test_printable_text_never_holds_a_rejected_character():
    """``bad_characters`` skips its look-up for text ``str.isprintable`` accepts: no code point
    it accepts may be in a rejected category (a new Unicode version must keep that true)."""
    import sys
    import unicodedata

    from survey.text import REJECTED_CATEGORIES, bad_characters

    assert not [c for c in range(sys.maxunicode + 1)
                if chr(c).isprintable() and unicodedata.category(chr(c)) in REJECTED_CATEGORIES]
    assert bad_characters("Bùi Văn An") == [] and bad_characters("Bùi\u200bAn") == ["U+200B"]
