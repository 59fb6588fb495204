"""A household sent through Collect's exchange is a household like any other: listed, counted,
exported, reviewed and corrected with its history, exactly as one typed through the JSON API."""

from __future__ import annotations

import uuid

from tests.conftest import as_user, csrf

from .conftest import instance_xml, same_household_everywhere


def test_collect_household_equals_its_json_api_twin_everywhere(collect, api, camp, make_household):
    twin = make_household(address=..., head_name="Đinh Thị Hoa")
    assert api.post("/api/v1/households", twin).status_code == 201
    collect_id = str(uuid.uuid4())
    xml = instance_xml(instance_id=f"uuid:{collect_id}", head_name="Đinh Thị Hoa")
    assert collect.submit(xml).status_code == 201
    assert collect.submit(xml).status_code == 202  # Collect's retry changes nothing below
    same_household_everywhere(api, camp, collect_id, twin)


def test_collect_household_is_reviewed_and_corrected_with_its_history(collect, api, app):
    record_id = str(uuid.uuid4())
    assert collect.submit(instance_xml(instance_id=f"uuid:{record_id}")).status_code == 201
    district = as_user(app, "district")
    flagged = district.post(f"/households/{record_id}/flag",
                            data={"reason": "Sai số nhân khẩu", "csrf_token": csrf(district, "/review")})
    assert flagged.status_code == 302
    assert [f["record_id"] for f in api.get("/api/v1/review/flags", user="officer").get_json()["items"]] == [record_id]
    stored = api.get(f"/api/v1/households/{record_id}", user="officer").get_json()
    body = {k: v for k, v in stored.items() if k not in ("district_code", "officer", "created_at", "updated_at")}
    assert api.put(f"/api/v1/households/{record_id}", {**body, "members": 5}).status_code == 200
    history = api.get(f"/api/v1/households/{record_id}/history", user="officer").get_json()
    assert history["current"]["members"] == 5 and history["versions"][0]["record"]["members"] == 4
    assert api.get("/api/v1/review/flags", user="officer").get_json()["items"] == []
