"""Review with history: flags reach the officer, corrections keep earlier versions, duplicates."""

from __future__ import annotations

import re

import pytest

from ..conftest import as_user, csrf, household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def submit(api, user="officer", **changes):
    return api.post("/api/v1/households", household(**changes), user=user).get_json()


def body_of(rec):
    return {k: v for k, v in rec.items() if k not in ("district_code", "officer", "created_at", "updated_at")}


def test_a_correction_keeps_the_previous_version(api, camp):
    rec = submit(api)
    api.put(f"/api/v1/households/{rec['id']}", {**body_of(rec), "members": 6, "head_name": "Bùi Văn Ân"})
    versions = camp.history.versions(rec["id"], camp.gazetteer.communes)
    assert len(versions) == 1
    assert versions[0]["record"] == rec
    assert versions[0]["changes"] == {"head_name": ["Bùi Văn An", "Bùi Văn Ân"], "members": [4, 6]}
    assert versions[0]["replaced_by"] == "officer"


def test_a_correction_that_changes_nothing_adds_no_version(api, camp):
    rec = submit(api)
    api.put(f"/api/v1/households/{rec['id']}", body_of(rec))
    assert camp.history.versions(rec["id"], camp.gazetteer.communes) == []


def test_aggregates_count_the_current_version(api):
    rec = submit(api)
    api.put(f"/api/v1/households/{rec['id']}", {**body_of(rec), "members": 9})
    row = api.get("/api/v1/aggregates?level=commune&commune=4789").get_json()["rows"][0]
    assert row["households"] == 1 and row["members"] == 9


def test_the_review_loop_through_the_pages(app, api, camp):
    rec = submit(api)
    reviewer = as_user(app, "district")
    r = reviewer.post(f"/households/{rec['id']}/flag",
                      data={"reason": "Số nhân khẩu sai", "csrf_token": csrf(reviewer, f"/households/{rec['id']}")})
    assert r.status_code == 302
    officer = as_user(app, "officer")
    assert "1 phiếu cần sửa" in officer.get("/form").get_data(as_text=True)
    page = officer.get("/review").get_data(as_text=True)
    assert "Số nhân khẩu sai" in page and f"/households/{rec['id']}/edit" in page
    form = officer.get(f"/households/{rec['id']}/edit").get_data(as_text=True)
    assert 'value="Bùi Văn An"' in form
    data = {"csrf_token": csrf(officer, "/form"), "commune_code": "4789", "hamlet": "Xóm Mới",
            "head_name": "Bùi Văn An", "members": "5", "smartphone_users": "2", "installed_before": "1",
            "installed_during_visit": "1", "visited_on": "2020-08-15", "reasons_not_installed": "no_smartphone"}
    assert officer.post(f"/households/{rec['id']}/edit", data=data).status_code == 302
    assert camp.flags.get(rec["id"], 4789)["status"] == "corrected"
    assert "phiếu cần sửa" not in officer.get("/form").get_data(as_text=True)
    detail = reviewer.get(f"/households/{rec['id']}").get_data(as_text=True)
    assert re.search(r"Số nhân khẩu</b>: 4 → 5", detail)


def test_only_reviewers_flag_and_only_in_their_area(app, api):
    rec = submit(api)
    officer = as_user(app, "officer")
    r = officer.post(f"/households/{rec['id']}/flag", data={"reason": "x", "csrf_token": csrf(officer, "/form")})
    assert r.status_code == 403
    other = as_user(app, "district2")
    r = other.post(f"/households/{rec['id']}/flag", data={"reason": "x", "csrf_token": csrf(other, "/review")})
    assert r.status_code == 404


def test_edit_page_is_for_writers_of_the_commune(app, api):
    rec = submit(api)
    assert as_user(app, "district").get(f"/households/{rec['id']}/edit").status_code == 403
    assert as_user(app, "officer2").get(f"/households/{rec['id']}/edit").status_code == 404


def test_probable_duplicates_are_shown_and_settled(app, api, camp):
    first = submit(api, user="officer", hamlet="Xóm Hòa Sơn", head_name="Bùi Văn An")
    second = submit(api, user="department", hamlet="xóm hoà sơn", head_name="BUI VAN AN")
    submit(api, user="officer", hamlet="Xóm Hòa Sơn", head_name="Bùi Văn Ba")
    reviewer = as_user(app, "district")
    page = reviewer.get("/review").get_data(as_text=True)
    assert page.count('class="card dup"') == 1
    token = csrf(reviewer, "/review")
    r = reviewer.post("/review/duplicates", data={"ids": [first["id"], second["id"]], "decision": "remove",
                                                  "csrf_token": token})
    assert r.status_code == 302
    assert camp.households.count([4789]) == 2
    assert camp.households.get(second["id"], [4789]) is None
    kept = camp.history.versions(second["id"], camp.gazetteer.communes)
    assert kept[0]["removed"] and kept[0]["record"]["head_name"] == "BUI VAN AN"
    assert 'class="card dup"' not in reviewer.get("/review").get_data(as_text=True)


def test_same_officer_twice_is_not_a_duplicate_but_keep_both_is_remembered(app, api):
    submit(api, user="officer", head_name="Hà Văn Cường")
    submit(api, user="officer", head_name="Hà Văn Cường")
    a = submit(api, user="officer", head_name="Quách Thị Mai")
    b = submit(api, user="department", head_name="Quách Thị Mai")
    reviewer = as_user(app, "department")
    assert reviewer.get("/review").get_data(as_text=True).count('class="card dup"') == 1
    reviewer.post("/review/duplicates", data={"ids": [a["id"], b["id"]], "decision": "keep",
                                              "csrf_token": csrf(reviewer, "/review")})
    assert 'class="card dup"' not in reviewer.get("/review").get_data(as_text=True)


def test_history_and_flags_through_the_api(app, api, camp):
    rec = submit(api)
    api.put(f"/api/v1/households/{rec['id']}", {**body_of(rec), "members": 7})
    camp.flags.flag(rec, "Kiểm tra lại", "district", "2020-08-16T08:00:00+07:00")
    body = api.get(f"/api/v1/households/{rec['id']}/history", user="officer").get_json()
    assert body["current"]["members"] == 7 and body["versions"][0]["record"]["members"] == 4
    assert body["flag"]["reason"] == "Kiểm tra lại"
    assert [f["record_id"] for f in api.get("/api/v1/review/flags", user="officer").get_json()["items"]] == [rec["id"]]
    assert api.get("/api/v1/review/flags", user="officer2").get_json()["items"] == []
    assert api.get(f"/api/v1/households/{rec['id']}/history", user="officer2").status_code == 404


def _settle(reviewer, ids, decision="remove"):
    return reviewer.post("/review/duplicates", data={"ids": ids, "decision": decision,
                                                     "csrf_token": csrf(reviewer, "/review")})


def test_one_record_named_twice_is_not_a_duplicate_group(app, api, camp):
    """ids=X&ids=X would remove X "as a duplicate of X": refused, X stays."""
    a = submit(api, user="officer", head_name="Đinh Văn Sơn")
    submit(api, user="department", head_name="Đinh Văn Sơn")
    response = _settle(as_user(app, "district"), [a["id"], a["id"]])
    assert response.status_code == 400
    assert "khác nhau" in response.get_data(as_text=True)
    assert camp.households.get(a["id"], [4789]) is not None
    assert camp.history.versions(a["id"], camp.gazetteer.communes) == []


@pytest.mark.parametrize("decision", ["remove", "keep"])
def test_unrelated_records_cannot_be_settled_as_duplicates(app, api, camp, decision):
    """Two records that are no probable-duplicate group: refused with the reason, both stay."""
    a = submit(api, user="officer", head_name="Đinh Văn Sơn")
    b = submit(api, user="department", head_name="Xa Thị Hoa")
    response = _settle(as_user(app, "district"), [a["id"], b["id"]], decision)
    assert response.status_code == 409
    assert "không phải một nhóm" in response.get_data(as_text=True)
    assert camp.households.count([4789]) == 2
    assert camp.flags.dismissed() == set()


def test_a_group_already_kept_cannot_then_be_removed(app, api, camp):
    """Once judged different households, the pair is no current group any more."""
    a = submit(api, user="officer", head_name="Đinh Văn Sơn")
    b = submit(api, user="department", head_name="Đinh Văn Sơn")
    reviewer = as_user(app, "district")
    assert _settle(reviewer, [a["id"], b["id"]], "keep").status_code == 302
    assert _settle(reviewer, [a["id"], b["id"]], "remove").status_code == 409
    assert camp.households.count([4789]) == 2


def _flagged(api, camp):
    rec = submit(api)
    camp.flags.flag(rec, "Kiểm tra lại số nhân khẩu", "district", "2020-08-16T08:00:00+07:00")
    return rec


def test_an_unchanged_put_leaves_the_flag_open(api, camp):
    """Sending the record back as it was answers nothing the reviewer asked."""
    rec = _flagged(api, camp)
    assert api.put(f"/api/v1/households/{rec['id']}", body_of(rec)).status_code == 200
    assert camp.flags.get(rec["id"], 4789)["status"] == "open"
    assert camp.history.versions(rec["id"], camp.gazetteer.communes) == []


def test_a_changed_put_closes_the_flag_with_the_change_in_history(api, camp):
    rec = _flagged(api, camp)
    api.put(f"/api/v1/households/{rec['id']}", {**body_of(rec), "members": 5})
    flag = camp.flags.get(rec["id"], 4789)
    assert flag["status"] == "corrected" and flag["resolved_by"] == "officer"
    assert camp.history.versions(rec["id"], camp.gazetteer.communes)[0]["changes"] == {"members": [4, 5]}


def test_checked_no_change_closes_the_flag_on_record(api, camp):
    """The officer's explicit answer: the flag closes and the history says who checked, when."""
    rec = _flagged(api, camp)
    response = api.post(f"/api/v1/households/{rec['id']}/checked", {})
    assert response.status_code == 200 and response.get_json()["status"] == "checked"
    (entry,) = camp.history.versions(rec["id"], camp.gazetteer.communes)
    assert entry["reason"] == "checked, no change" and entry["replaced_by"] == "officer"
    assert entry["changes"] == {} and not entry["removed"]
    assert camp.households.get(rec["id"], [4789]) == rec
    assert api.post(f"/api/v1/households/{rec['id']}/checked", {}).status_code == 409
    assert api.post(f"/api/v1/households/{rec['id']}/checked", {}, user="district").status_code == 403


def test_checked_no_change_on_the_record_page(app, api, camp):
    rec = _flagged(api, camp)
    officer = as_user(app, "officer")
    page = officer.get(f"/households/{rec['id']}").get_data(as_text=True)
    assert "Đã kiểm tra, không cần sửa" in page
    response = officer.post(f"/households/{rec['id']}/checked",
                            data={"csrf_token": csrf(officer, f"/households/{rec['id']}")})
    assert response.status_code == 302
    assert camp.flags.get(rec["id"], 4789)["status"] == "checked"
    page = as_user(app, "district").get(f"/households/{rec['id']}").get_data(as_text=True)
    assert "đã kiểm tra, không sửa" in page
