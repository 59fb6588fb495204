"""The province comes from vietnam-provinces, and names are found however they are typed."""

import unicodedata

import pytest

from survey.gazetteer import load_gazetteer


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer(17)


def test_hoa_binh_has_10_districts_and_151_communes(gaz):
    assert gaz.province.code == 17
    assert len(gaz.districts) == 10
    assert len(gaz.communes) == 151
    assert sum(len(v) for v in gaz.communes_of.values()) == 151


def test_each_commune_knows_its_district(gaz):
    assert gaz.district_of(4789) == 148
    assert gaz.communes[4831].name == "Thị trấn Đà Bắc"


@pytest.mark.parametrize("query", ["Hòa Bình", "Hoà Bình", "hoa binh", "HOA BINH",
                                   unicodedata.normalize("NFD", "Hoà Bình"), "Thành phố Hòa Bình"])
def test_district_search_matches_any_spelling(gaz, query):
    assert [u.code for u in gaz.search(query, level="district")] == [148]


@pytest.mark.parametrize("query", ["Yên Thủy", "Yên Thuỷ", "yen thuy"])
def test_tone_placement_of_thuy(gaz, query):
    assert [u.code for u in gaz.search(query, level="district")] == [158]


def test_accented_query_prefers_exact_tones(gaz):
    codes = [u.code for u in gaz.search("Đà Bắc")]
    assert 4831 in codes


def test_other_province_is_configurable():
    assert load_gazetteer(1).province.name == "Thành phố Hà Nội"
    with pytest.raises(ValueError):
        load_gazetteer(999)
