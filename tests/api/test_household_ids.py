"""A household id is unique in the whole province: reuse elsewhere is a conflict, nobody sees
another area's versions, and a move between communes is a checked, recorded operation."""

from __future__ import annotations

import pytest

from tests.conftest import household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

URL = "/api/v1/households"


def test_an_id_of_another_commune_is_a_409_and_changes_nothing(api, camp):
    """Officer B cannot post, in commune B, a household under the id of A's household."""
    theirs = household(commune_code=4789)
    assert api.post(URL, theirs, user="officer").status_code == 201
    reuse = api.post(URL, {**theirs, "commune_code": 4831}, user="officer2")
    assert reuse.status_code == 409 and "4789" not in reuse.get_data(as_text=True)
    assert camp.households.count([4831]) == 0
    assert camp.households.get(theirs["id"])["commune_code"] == 4789
    assert api.get(f"{URL}/{theirs['id']}/history", user="officer2").status_code == 404


def test_the_same_content_from_another_commune_is_still_a_conflict(api, camp):
    """Even a retry-looking resend cannot copy a record into a second commune."""
    theirs = household(commune_code=4789)
    assert api.post(URL, theirs, user="department").status_code == 201
    assert api.post(URL, {**theirs, "commune_code": 4792}, user="department").status_code == 409
    assert camp.households.count([4789, 4792]) == 1


def test_a_department_move_is_recorded_and_each_area_sees_only_its_versions(api, camp):
    record = household(commune_code=4789, hamlet="Xóm Cũ")
    assert api.post(URL, record, user="officer").status_code == 201
    moved = api.put(f"{URL}/{record['id']}", {**record, "commune_code": 4831, "hamlet": "Bản Mới"},
                    user="department")
    assert moved.status_code == 200 and moved.get_json()["commune_code"] == 4831
    assert camp.households.count([4789]) == 0 and camp.households.count([4831]) == 1
    everything = api.get(f"{URL}/{record['id']}/history", user="department").get_json()["versions"]
    assert [v["reason"] for v in everything] == ["moved from commune 4789"]
    assert api.get(f"{URL}/{record['id']}", user="officer").status_code == 404
    seen_by_new_area = api.get(f"{URL}/{record['id']}/history", user="officer2").get_json()
    assert seen_by_new_area["current"]["hamlet"] == "Bản Mới" and seen_by_new_area["versions"] == []


def test_a_move_outside_the_writers_area_is_refused(api, camp):
    record = household(commune_code=4789)
    assert api.post(URL, record, user="officer").status_code == 201
    refused = api.put(f"{URL}/{record['id']}", {**record, "commune_code": 4831}, user="district")
    assert refused.status_code == 403
    assert camp.households.get(record["id"])["commune_code"] == 4789 and camp.households.count([4831]) == 0
