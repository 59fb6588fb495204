"""Each rule of the household form, checked through the schema built from its definition."""

import datetime as dt
import json

import pytest
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from survey.forms import SchemaFactory, from_form_post, load_form
from survey.gazetteer import load_gazetteer

from .conftest import household

TODAY = dt.date(2020, 8, 18)


@pytest.fixture(scope="module")
def factory():
    form = load_form("forms/household.json")
    return SchemaFactory(form, load_gazetteer(17), lambda: TODAY)


def errors(factory, record, lang="en"):
    with pytest.raises(ValidationError) as info:
        factory.schema(lang).load(record)
    return info.value.messages


def test_valid_record_is_cleaned(factory):
    out = factory.schema().load(household(hamlet="  xóm   Mới ", reasons_not_installed=["declined", "no_smartphone", "declined"]))
    assert out["hamlet"] == "xóm Mới"
    assert out["reasons_not_installed"] == ["no_smartphone", "declined"]


def test_visited_on_defaults_to_campaign_today(factory):
    assert factory.schema().load(household(visited_on=...))["visited_on"] == "2020-08-18"


@pytest.mark.parametrize("field", ["commune_code", "hamlet", "head_name", "members", "smartphone_users",
                                   "installed_before", "installed_during_visit"])
def test_required_fields(factory, field):
    assert errors(factory, household(**{field: ...}))[field] == ["This field is required."]


@pytest.mark.parametrize("field, value", [
    ("members", 0), ("members", 51), ("members", -1), ("smartphone_users", -1),
    ("installed_before", 51), ("installed_during_visit", -3), ("members", 10**30),
])
def test_counts_are_bounded(factory, field, value):
    assert field in errors(factory, household(**{field: value}))


@pytest.mark.parametrize("value", ["3", 3.0, 3.5, True, None, [3], {"n": 3}])
def test_counts_must_be_json_integers(factory, value):
    assert "members" in errors(factory, household(members=value))


def test_smartphone_users_at_most_members(factory):
    msgs = errors(factory, household(members=2, smartphone_users=3, installed_before=0, installed_during_visit=0))
    assert msgs == {"smartphone_users": ["Cannot exceed household members"]}


def test_installed_at_most_smartphone_users(factory):
    msgs = errors(factory, household(smartphone_users=2, installed_before=2, installed_during_visit=1))
    assert list(msgs) == ["installed_during_visit"]


def test_installed_may_equal_smartphone_users(factory):
    factory.schema().load(household(smartphone_users=2, installed_before=1, installed_during_visit=1))


@pytest.mark.parametrize("code", [1, 4, 999999, 148])
def test_commune_of_another_province_or_a_district_is_refused(factory, code):
    assert "Hòa Bình" in errors(factory, household(commune_code=code))["commune_code"][0]


@pytest.mark.parametrize("field, value", [("hamlet", ""), ("hamlet", "   "), ("hamlet", "x" * 101),
                                          ("head_name", "y" * 101), ("address", "z" * 201), ("note", "n" * 501)])
def test_text_lengths(factory, field, value):
    assert field in errors(factory, household(**{field: value}))


@pytest.mark.parametrize("value", ["a\u202eb", "a\u200bb", "a\x00b", "\u2066x"])
def test_control_bidi_and_invisible_characters_are_refused(factory, value):
    assert "U+" in errors(factory, household(head_name=value))["head_name"][0]


def test_text_is_stored_as_nfc(factory):
    import unicodedata
    out = factory.schema().load(household(head_name=unicodedata.normalize("NFD", "Bùi Thị Thủy")))
    assert out["head_name"] == unicodedata.normalize("NFC", "Bùi Thị Thủy")


def test_unknown_reason_is_refused(factory):
    assert "reasons_not_installed" in errors(factory, household(reasons_not_installed=["lazy"]))


def test_unknown_fields_are_refused(factory):
    assert errors(factory, household(officer="me", colour="red")) == {
        "officer": ["Unknown field."], "colour": ["Unknown field."]}


@pytest.mark.parametrize("value", ["2020-08-19", "2031-01-01"])
def test_visit_date_never_in_the_future(factory, value):
    assert errors(factory, household(visited_on=value)) == {"visited_on": ["May not be in the future."]}


@pytest.mark.parametrize("value", ["18/08/2020", "2020-13-01", 20200818, ""])
def test_visit_date_format(factory, value):
    assert "visited_on" in errors(factory, household(visited_on=value))


def test_id_must_be_a_uuid(factory):
    assert "id" in errors(factory, household(id="not-a-uuid"))


@pytest.mark.parametrize("given", ["2FDEBF92-84EB-467C-B833-A07022B7A0D3", "{2fdebf92-84eb-467c-b833-a07022b7a0d3}",
                                   "urn:uuid:2fdebf92-84eb-467c-b833-a07022b7a0d3", "2fdebf9284eb467cb833a07022b7a0d3",
                                   "2fdebf92-84eb-467c-b833-a07022b7a0d3"])
def test_an_id_is_kept_in_its_canonical_form(factory, given):
    assert factory.schema().load(household(id=given))["id"] == "2fdebf92-84eb-467c-b833-a07022b7a0d3"


@pytest.mark.parametrize("given", ["2fdebf92-84eb-467c-b833-a07022b7a0d3\n", "2fdebf92-84eb-467c-b833-a07022b7a0d",
                                   "2fdebf92-84eb-467c-b833-a07022b7a0dg", 0x2FDEBF92])
def test_an_id_almost_a_uuid_is_refused(factory, given):
    assert "id" in errors(factory, household(id=given))


def test_messages_are_vietnamese_by_default(factory):
    assert errors(factory, household(members=0), lang="vi") == {"members": ["Phải từ 1 đến 50."]}


def test_form_post_is_typed_before_validation(factory):
    post = MultiDict([("commune_code", "4789"), ("hamlet", "Xóm Mới"), ("head_name", "A"),
                      ("members", "3"), ("smartphone_users", "1"), ("installed_before", "0"),
                      ("installed_during_visit", "1"), ("reasons_not_installed", "declined"),
                      ("reasons_not_installed", "not_home"), ("address", ""), ("note", "")])
    data = from_form_post(factory.form, post)
    assert data["members"] == 3 and "address" not in data
    assert factory.schema().load(data)["reasons_not_installed"] == ["declined", "not_home"]
    assert "members" in errors(factory, from_form_post(factory.form, MultiDict({**post.to_dict(), "members": "ba"})))


def test_adding_a_question_is_an_edit_of_the_definition(tmp_path):
    raw = json.loads(open("forms/household.json", encoding="utf-8").read())
    raw["fields"].append({"name": "children", "type": "integer", "required": True, "min": 0, "max": 30,
                          "label": {"vi": "Số trẻ em", "en": "Children"}})
    path = tmp_path / "household.json"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    factory = SchemaFactory(load_form(path), load_gazetteer(17), lambda: TODAY)
    assert factory.schema().load(household(children=2))["children"] == 2
    assert "children" in errors(factory, household())


def test_malformed_definition_fails_at_load(tmp_path):
    raw = json.loads(open("forms/household.json", encoding="utf-8").read())
    raw["fields"][2]["type"] = "colour"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown type"):
        load_form(path)
