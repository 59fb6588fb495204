"""The XForm says what the form definition says: questions, languages, rules and their words."""

from __future__ import annotations

import io
from xml.etree import ElementTree as ET

import pytest
from marshmallow import ValidationError
from openpyxl import load_workbook
from pyxform.xls2xform import convert

from tests.conftest import household

from .conftest import Collect

NS = {"xf": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml",
      "jr": "http://openrosa.org/javarosa"}
LANGS = {"vi": "Tiếng Việt (vi)", "en": "English (en)"}


@pytest.fixture
def xform(collect) -> ET.Element:
    return ET.fromstring(collect.download())


def _itext(xform: ET.Element, lang: str) -> dict[str, str]:
    (translation,) = [t for t in xform.iterfind(".//xf:itext/xf:translation", NS) if t.get("lang") == LANGS[lang]]
    return {t.get("id"): t.find("xf:value", NS).text for t in translation.iterfind("xf:text", NS)}


def _schema_error(camp, lang: str, field: str, **changes) -> str:
    """What the API says about ``field`` when the household has ``changes``."""
    with pytest.raises(ValidationError) as caught:
        camp.schemas.schema(lang).load(household(**changes))
    assert set(caught.value.messages) == {field}
    return " ".join(caught.value.messages[field])


def test_vietnamese_is_the_default_language_and_english_is_there(xform, camp):
    translations = {t.get("lang"): t.get("default") for t in xform.iterfind(".//xf:itext/xf:translation", NS)}
    assert translations == {LANGS["vi"]: "true()", LANGS["en"]: None}
    for lang in LANGS:
        texts = _itext(xform, lang)
        for spec in camp.form.fields:
            if spec["name"] != "id":
                assert texts[f"/data/{spec['name']}:label"] == spec["label"][lang]
    assert xform.find(".//h:title", NS).text == camp.form.title["vi"]


def test_every_question_of_the_definition_is_bound_in_order(xform, camp):
    instance = xform.find(".//xf:instance/xf:data", NS)
    names = [child.tag.split("}")[1] for child in instance]
    assert names == [n for n in camp.form.names if n != "id"] + ["meta"]
    binds = {b.get("nodeset"): b for b in xform.iterfind(".//xf:bind", NS)}
    for spec in camp.form.fields:
        if spec["name"] == "id":
            continue
        bind = binds[f"/data/{spec['name']}"]
        assert (bind.get("required") == "true()") == bool(spec.get("required")), spec["name"]
    assert binds["/data/meta/instanceID"].get("{http://openrosa.org/javarosa}preload") == "uid"


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("field, changes", [
    ("members", {"members": 51}), ("hamlet", {"hamlet": "x" * 101}), ("address", {"address": "x" * 201}),
    ("visited_on", {"visited_on": "2999-01-01"}), ("visited_on", {"visited_on": "2020-07-01"}),
    ("smartphone_users", {"members": 1, "smartphone_users": 2}),
    ("installed_during_visit", {"installed_before": 2, "installed_during_visit": 1}),
])
def test_constraint_messages_are_the_schemas_words(xform, camp, lang, field, changes):
    """For each rule, the message the API gives is the one Collect shows."""
    message = _itext(xform, lang)[f"/data/{field}:jr:constraintMsg"]
    assert _schema_error(camp, lang, field, **changes) in message


def test_required_messages_are_the_schemas_words(xform, camp):
    for lang in LANGS:
        assert _itext(xform, lang)["/data/head_name:jr:requiredMsg"] == _schema_error(camp, lang, "head_name", head_name=...)


def test_rules_are_xpath_constraints_on_their_field(xform):
    binds = {b.get("nodeset"): b.get("constraint") for b in xform.iterfind(".//xf:bind", NS)}
    assert binds["/data/members"] == "(. >= 1 and . <= 50)"
    assert "( /data/installed_before  + .) <= ( /data/smartphone_users )" in binds["/data/installed_during_visit"]
    # not in the future, and inside the campaign's window (the Department's settings; 10-25/8/2020 by default)
    assert binds["/data/visited_on"] == "(. <= today()) and (. >= date('2020-08-10') and . <= date('2020-08-25'))"


def test_the_xlsform_download_is_the_workbook_the_xform_was_built_from(collect, xform):
    response = collect.get("/forms/household.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="household.xlsx"'
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["survey", "choices", "settings"]
    headings = [c.value for c in book["survey"][1]]
    assert {"type", "name", "label::Tiếng Việt (vi)", "label::English (en)", "constraint"} <= set(headings)
    rebuilt = convert(xlsform=response.get_data(), file_type=".xlsx", form_name="data").xform
    assert rebuilt.encode("utf-8") == collect.download()


def test_the_officer_can_download_the_xlsform_from_the_collect_page(app):
    from tests.conftest import as_user
    response = as_user(app, "officer").get("/openrosa/setup/household.xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.get_data()))["choices"]["B2"].value == "4789"


def test_the_published_form_is_built_once_per_area(app, client, key_url):
    Collect(client, key_url()).download()
    Collect(client, key_url("department")).download()
    Collect(client, key_url()).download()
    assert len(app.extensions["openrosa.forms"]) == 2
