"""Submissions that are too big, hostile or not an instance of the form: refused, nothing stored."""

from __future__ import annotations

import pytest

from .conftest import instance_xml, message

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="household"><hamlet>&lol3;</hamlet><meta><instanceID>uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427</instanceID></meta></data>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<data id="household"><note>&secret;</note><meta><instanceID>uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427</instanceID></meta></data>"""
BARE_DTD = b"""<?xml version="1.0"?><!DOCTYPE data SYSTEM "http://example.com/x.dtd"><data id="household"/>"""


def _nothing_stored(camp) -> bool:
    return camp.households.count(camp.gazetteer.communes) == 0


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY, BARE_DTD], ids=["laughs", "external", "dtd"])
def test_dtds_and_entities_are_refused_unread(collect, camp, xml):
    response = collect.submit(xml)
    assert response.status_code == 400
    assert "DTD" in message(response) and "root:" not in message(response)
    assert _nothing_stored(camp)


@pytest.mark.parametrize("xml, says", [
    (b"<data id='household'><hamlet>", "XML không hợp lệ"),
    (b"\xff\xfe not xml", "XML không hợp lệ"),
    (instance_xml(colour="blue"), "<colour>"),
    (instance_xml(id="x"), "<id>"),
    (instance_xml(instance_id="uuid:not-a-uuid"), "instanceID"),
    (instance_xml(instance_id=" "), "instanceID"),
    (instance_xml().replace(b"<hamlet>", b"<hamlet><b>x</b>"), "<hamlet>"),
    (instance_xml().replace(b"</instanceID>", b"</instanceID><deprecatedID>uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
                            b"</deprecatedID>"), "deprecatedID"),
], ids=["truncated", "binary", "unknown-element", "id-element", "bad-uuid", "no-uuid", "nested", "edit"])
def test_xml_that_is_not_an_instance_of_the_form_is_400_saying_why(collect, camp, xml, says):
    response = collect.submit(xml)
    assert response.status_code == 400
    assert says in message(response)
    assert _nothing_stored(camp)


@pytest.mark.parametrize("answers, field", [
    ({"members": "bốn"}, "members"), ({"members": 51}, "members"), ({"hamlet": ""}, "hamlet"),
    ({"visited_on": "2999-01-01"}, "visited_on"), ({"visited_on": "15/08/2020"}, "visited_on"),
    ({"reasons_not_installed": "no_smartphone flying"}, "reasons_not_installed"),
    ({"head_name": "Bùi\u202eVăn"}, "head_name"), ({"commune_code": 99999}, "commune_code"),
    ({"installed_before": 2, "installed_during_visit": 1}, "installed_during_visit"),
])
def test_each_rule_of_the_form_is_checked_and_named(collect, camp, answers, field):
    response = collect.submit(instance_xml(**answers))
    assert response.status_code == 400
    assert f"({field})" in message(response)
    assert _nothing_stored(camp)


def test_a_body_over_the_limit_is_413(collect, app, camp):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = collect.submit(instance_xml(note="x" * 70_000))
    assert response.status_code == 413
    assert "64 KB" in message(response) and response.headers["X-OpenRosa-Version"] == "1.0"
    assert _nothing_stored(camp)


def test_text_is_stored_as_nfc(collect, camp):
    decomposed = "Bu\u0300i Va\u0306n An"
    instance_id = "uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert collect.submit(instance_xml(head_name=decomposed, instance_id=instance_id)).status_code == 201
    assert camp.households.get(instance_id[5:], [4789])["head_name"] == "Bùi Văn An"
