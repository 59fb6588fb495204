"""Collect's exchange with the OpenRosa routes: form list, download, HEAD, submissions."""

from __future__ import annotations

import uuid
from xml.etree import ElementTree as ET

import pytest

from .conftest import Collect, instance_xml, message

XF = {"xf": "http://www.w3.org/2002/xforms", "h": "http://www.w3.org/1999/xhtml"}


def test_form_list_names_the_form_with_absolute_urls_and_the_hash_of_the_bytes(collect):
    response = collect.form_list()
    assert response.status_code == 200
    assert response.headers["X-OpenRosa-Version"] == "1.0" and response.headers["Date"]
    assert response.mimetype == "text/xml"
    (entry,) = collect.entries()
    assert entry["formID"] == "household" and entry["name"] == "Phiếu hộ gia đình: cài đặt Bluezone"
    assert entry["downloadUrl"].startswith(collect.server + "/forms/household")
    assert entry["manifestUrl"] == collect.server + "/forms/household/manifest"
    xform = collect.download()
    version = ET.fromstring(xform).find(".//xf:instance/xf:data", XF).get("version")
    assert entry["version"] == version


def test_manifest_is_empty_and_every_answer_carries_the_protocol_headers(collect):
    (entry,) = collect.entries()
    manifest = collect.get(entry["manifestUrl"])
    assert manifest.status_code == 200
    root = ET.fromstring(manifest.get_data())
    assert root.tag == "{http://openrosa.org/xforms/xformsManifest}manifest" and len(root) == 0
    wrong_method = collect.client.post(collect.server + "/formList")
    unknown_path = collect.get("/nothing")
    assert (wrong_method.status_code, unknown_path.status_code) == (405, 404)
    for response in (manifest, collect.head(), collect.get("/forms/nothing.xml"), wrong_method, unknown_path):
        assert response.headers["X-OpenRosa-Version"] == "1.0" and response.headers["Date"]


def test_unknown_form_download_is_404(collect):
    assert collect.get("/forms/agency_report.xml").status_code == 404


def test_head_submission_answers_204_with_the_size_accepted(collect, app):
    response = collect.head()
    assert response.status_code == 204
    assert response.headers["X-OpenRosa-Accept-Content-Length"] == str(app.config["MAX_CONTENT_LENGTH"])


def _count(camp, record_id: str) -> int:
    return sum(1 for code in camp.gazetteer.communes
               for doc in camp.households.scan(code) if doc["id"] == record_id)


def test_new_instance_201_retry_202_conflict_409_and_stored_once(collect, camp):
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = instance_xml(instance_id=instance_id)
    first = collect.submit(xml)
    assert first.status_code == 201, first.get_data(as_text=True)
    assert message(first) == "Đã lưu phiếu hộ gia đình. Cảm ơn!"
    again = collect.submit(xml)
    assert again.status_code == 202 and "không lưu lại" in message(again)
    other = collect.submit(instance_xml(instance_id=instance_id, members=5))
    assert other.status_code == 409 and "nội dung khác" in message(other)
    record_id = instance_id[5:]
    assert _count(camp, record_id) == 1
    assert camp.households.get(record_id, [4789])["members"] == 4


def test_attachment_sent_in_a_second_request_for_the_same_instance(collect, camp):
    instance_id = f"uuid:{uuid.uuid4()}"
    xml = instance_xml(instance_id=instance_id)
    assert collect.submit(xml).status_code == 201
    second = collect.submit(xml, ("photo.jpg", b"\xff\xd8\xff\xe0 not really a photo", "image/jpeg"))
    assert second.status_code == 202
    assert _count(camp, instance_id[5:]) == 1


def test_a_broken_rule_is_400_naming_the_field(collect, camp):
    response = collect.submit(instance_xml(members=2, smartphone_users=3))
    assert response.status_code == 400
    text = message(response)
    assert "smartphone_users" in text and "Không được lớn hơn số nhân khẩu" in text
    bad = collect.submit(instance_xml(members=""))
    assert bad.status_code == 400 and "members" in message(bad) and "Bắt buộc nhập." in message(bad)


def test_commune_outside_the_officers_area_is_403(collect):
    response = collect.submit(instance_xml(commune_code=4831))
    assert response.status_code == 403 and "4831" in message(response)


@pytest.mark.parametrize("form_id", ["agency_report", "household_v0", ""])
def test_unknown_or_retired_form_is_404(collect, form_id):
    assert collect.submit(instance_xml(form_id=form_id)).status_code == 404


def test_submission_without_the_xml_file_is_400(collect, client):
    response = client.post(collect.server + "/submission", data={"note": "x"},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "xml_submission_file" in message(response)


def test_instance_id_maps_to_the_api_id_so_both_ways_are_one_record(collect, api, make_household, camp):
    record = make_household(address=..., visited_on="2020-08-15")
    assert api.post("/api/v1/households", record).status_code == 201
    xml = instance_xml(instance_id="uuid:" + record["id"].upper())
    response = collect.submit(xml)
    assert response.status_code == 202, message(response)
    assert _count(camp, record["id"]) == 1


def test_district_staff_see_no_form_and_may_not_submit(client, key_url):
    district = Collect(client, key_url("district"))
    assert district.entries() == []
    assert district.submit(instance_xml()).status_code == 403


def test_commune_choices_are_limited_to_the_accounts_area(client, key_url, camp):
    def choices(username: str) -> set[str]:
        xform = ET.fromstring(Collect(client, key_url(username)).download())
        items = xform.findall(".//xf:instance[@id='communes']/root/item/name", XF)
        if not items:  # the secondary instance has no namespace of its own in some pyxform versions
            items = xform.findall(".//xf:instance[@id='communes']/xf:root/xf:item/xf:name", XF)
        return {item.text for item in items}
    assert choices("officer") == {"4789"}
    assert choices("department") == {str(code) for code in camp.gazetteer.communes}
