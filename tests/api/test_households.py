"""POST/GET/PUT /api/v1/households: validation, idempotency, scope."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from ..conftest import household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

URL = "/api/v1/households"


def test_create_returns_201_with_server_fields(api):
    body = household()
    r = api.post(URL, body)
    assert r.status_code == 201
    assert r.headers["Location"] == f"{URL}/{body['id']}"
    rec = r.get_json()
    assert rec["district_code"] == 148 and rec["officer"] == "officer"
    assert rec["created_at"] == rec["updated_at"] and rec["created_at"].endswith("+07:00")
    assert {k: rec[k] for k in body} == body


def test_same_id_same_content_answers_200_with_the_stored_record(api, camp):
    body = household()
    first = api.post(URL, body).get_json()
    again = api.post(URL, body)
    assert again.status_code == 200 and again.get_json() == first
    assert camp.households.count([4789]) == 1


def test_same_id_other_content_answers_409(api, camp):
    body = household()
    api.post(URL, body)
    r = api.post(URL, {**body, "members": 9})
    assert r.status_code == 409 and r.get_json()["id"] == body["id"]
    assert camp.households.get(body["id"], [4789])["members"] == 4


def test_id_is_made_when_the_client_sends_none(api):
    r = api.post(URL, household(id=...))
    assert r.status_code == 201
    uuid.UUID(r.get_json()["id"])


def open_window_to_today(camp) -> None:
    """The Department moves the campaign's last day to today (the defaults end in 2020)."""
    settings = camp.settings.get().as_dict()
    values = {k: dt.date.fromisoformat(settings[k]) for k in ("start", "agency_deadline", "province_deadline")}
    camp.settings.save({**values, "end": camp.today(), "target_pct": 50, "stale_days": 3}, "department", "t")


def test_visited_on_defaults_to_today_in_the_campaign_time_zone(api, camp):
    open_window_to_today(camp)
    r = api.post(URL, household(visited_on=...))
    assert r.status_code == 201
    assert r.get_json()["visited_on"] == camp.today().isoformat()


@pytest.mark.parametrize("day, message", [
    ("2020-08-09", "Phải trong thời gian chiến dịch, từ 10/08/2020 đến 25/08/2020."),
    ("2020-08-26", "Phải trong thời gian chiến dịch, từ 10/08/2020 đến 25/08/2020."),
    ("2026-01-01", "Phải trong thời gian chiến dịch, từ 10/08/2020 đến 25/08/2020."),
    ("2099-08-15", "Không được là ngày trong tương lai."),
    (..., "Phải trong thời gian chiến dịch, từ 10/08/2020 đến 25/08/2020."),  # today, after the window
])
def test_a_visit_outside_the_campaign_window_is_refused(api, camp, day, message):
    r = api.post(URL + "?lang=vi", household(visited_on=day))
    assert r.status_code == 422
    assert r.get_json()["fields"] == {"visited_on": [message]}
    assert list(camp.households.records([4789])) == []


def test_the_window_follows_the_settings(api, camp):
    r = api.post(URL, household(visited_on="2020-08-10"))
    assert r.status_code == 201
    open_window_to_today(camp)
    camp.settings.save({**{k: getattr(camp.settings.get(), k) for k in ("agency_deadline", "province_deadline",
                                                                        "end", "target_pct", "stale_days")},
                        "start": dt.date(2020, 8, 11)}, "department", "t")
    r = api.post(URL + "?lang=en", household(visited_on="2020-08-10"))
    assert r.status_code == 422
    assert r.get_json()["fields"]["visited_on"] == [
        f"Must be within the campaign, 11/08/2020 to {camp.today():%d/%m/%Y}."]


def test_validation_errors_name_each_field_and_store_nothing(api, camp):
    r = api.post(URL, household(members=0, hamlet="", colour="red"), headers={"Accept-Language": "en"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "validation_failed"
    assert set(body["fields"]) == {"members", "hamlet", "colour"}
    assert camp.households.count([4789]) == 0


def test_validation_messages_follow_the_clients_language(api):
    vi = api.post(URL, household(members=0), headers={"Accept-Language": "vi"}).get_json()
    en = api.post(URL + "?lang=en", household(members=0)).get_json()
    assert vi["fields"]["members"] == ["Phải từ 1 đến 50."]
    assert en["fields"]["members"] == ["Must be between 1 and 50."]


@pytest.mark.parametrize("data, content_type, fragment", [
    (b"{not json", "application/json", "invalid JSON"),
    (b'{"members": 1, "members": 2}', "application/json", "duplicate key"),
    (b'{"members": Infinity}', "application/json", "Infinity"),
    (b"\xc3\x28", "application/json", "UTF-8"),
    (b"[1, 2]", "application/json", "JSON object"),
    ("\ufeff{}".encode(), "application/json", "invalid JSON: Unexpected UTF-8 BOM (decode using utf-8-sig)"),
    (b"members=3", "application/x-www-form-urlencoded", "application/json"),
])
def test_unreadable_bodies_answer_400(api, data, content_type, fragment):
    r = api.client.post(URL, data=data, headers={**api.headers("officer"), "Content-Type": content_type})
    assert r.status_code == 400 and fragment in r.get_json()["message"]


def test_body_over_1mb_answers_413_from_content_length(api):
    r = api.client.post(URL, data=b"{" + b" " * (1024 * 1024) + b"}",
                        headers={**api.headers("officer"), "Content-Type": "application/json"})
    assert r.status_code == 413 and r.get_json()["error"] == "body_too_large"


def test_no_credentials_is_401_and_json(api):
    r = api.post(URL, household(), user=None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert api.client.get(URL).status_code == 401


def test_a_wrong_token_is_401(api):
    r = api.client.get(URL, headers={"Authorization": "Bearer bz_nope"})
    assert r.status_code == 401


@pytest.mark.parametrize("user, commune, status", [
    ("officer", 4789, 201), ("officer", 4792, 403), ("officer2", 4789, 403),
    ("district", 4789, 403), ("department", 4789, 201),
])
def test_who_may_submit_where(api, user, commune, status):
    assert api.post(URL, household(commune_code=commune), user=user).status_code == status


def test_session_cookie_clients_need_the_csrf_header(client, browser):
    browser.login("officer")
    assert client.post(URL, json=household()).status_code == 400
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    assert client.post(URL, json=household(), headers={"X-CSRF-Token": token}).status_code == 201


def _seed(api, n, commune=4789, user="officer"):
    return [api.post(URL, household(commune_code=commune, head_name=f"Hộ {i}"), user=user).get_json()
            for i in range(n)]


def test_list_is_scoped_and_paginated(api):
    mine = _seed(api, 5)
    _seed(api, 2, commune=4831, user="officer2")
    page = api.get(URL + "?per_page=2&page=2", user="officer").get_json()
    assert page["total"] == 5 and page["pages"] == 3
    assert [r["id"] for r in page["items"]] == [r["id"] for r in mine[2:4]]
    assert api.get(URL, user="department").get_json()["total"] == 7
    assert api.get(URL, user="district").get_json()["total"] == 5
    assert api.get(URL, user="district2").get_json()["total"] == 2
    assert api.get(URL + "?district=150", user="department").get_json()["total"] == 2


def test_pages_cross_commune_boundaries(api):
    _seed(api, 3)
    _seed(api, 3, commune=4831, user="officer2")
    ids = [r["id"] for p in (1, 2, 3) for r in api.get(f"{URL}?per_page=2&page={p}").get_json()["items"]]
    assert len(ids) == len(set(ids)) == 6


@pytest.mark.parametrize("user, query, status", [
    ("officer", "?commune=4831", 403), ("officer", "?district=150", 403),
    ("district", "?district=150", 403), ("district", "?commune=4789", 200),
    ("department", "?commune=99999", 404), ("department", "?district=x", 400),
    ("department", "?per_page=0", 400), ("department", "?page=abc", 400),
])
def test_list_filters_outside_scope_or_bad(api, user, query, status):
    assert api.get(URL + query, user=user).status_code == status


def test_get_one_is_scoped(api):
    rec = _seed(api, 1)[0]
    assert api.get(f"{URL}/{rec['id']}", user="officer").get_json() == rec
    assert api.get(f"{URL}/{rec['id']}", user="district").status_code == 200
    assert api.get(f"{URL}/{rec['id']}", user="officer2").status_code == 404
    assert api.get(f"{URL}/{rec['id']}", user="district2").status_code == 404


def test_put_corrects_a_record_and_keeps_its_creation(api, camp):
    rec = _seed(api, 1)[0]
    body = {k: v for k, v in rec.items() if k not in ("district_code", "officer", "created_at", "updated_at")}
    r = api.put(f"{URL}/{rec['id']}", {**body, "members": 6, "smartphone_users": 3})
    assert r.status_code == 200
    new = r.get_json()
    assert new["members"] == 6 and new["created_at"] == rec["created_at"] and new["officer"] == "officer"
    assert camp.households.count([4789]) == 1


def test_put_validates_and_respects_scope(api):
    rec = _seed(api, 1)[0]
    body = {k: v for k, v in rec.items() if k not in ("district_code", "officer", "created_at", "updated_at")}
    assert api.put(f"{URL}/{rec['id']}", {**body, "members": 0}).status_code == 422
    assert api.put(f"{URL}/{rec['id']}", {**body, "id": str(uuid.uuid4())}).status_code == 422
    assert api.put(f"{URL}/{rec['id']}", {**body, "commune_code": 4831}).status_code == 403
    assert api.put(f"{URL}/{rec['id']}", body, user="officer2").status_code == 404
    assert api.put(f"{URL}/{rec['id']}", body, user="district").status_code == 403
    body.pop("id")
    assert api.put(f"{URL}/{uuid.uuid4()}", body).status_code == 404


def test_put_on_a_record_removed_since_it_was_read_is_404_and_stores_nothing(api, camp, monkeypatch):
    rec = _seed(api, 1)[0]
    body = {k: v for k, v in rec.items() if k not in ("district_code", "officer", "created_at", "updated_at")}
    from survey.api import households as view
    read = view.find

    def read_then_removed(camp_, user, record_id):  # a reviewer removes it meanwhile
        current = read(camp_, user, record_id)
        camp_.households.remove(current)
        return current
    monkeypatch.setattr(view, "find", read_then_removed)
    answer = api.put(f"{URL}/{rec['id']}", {**body, "members": 6, "smartphone_users": 3})
    assert answer.status_code == 404 and rec["id"] in answer.get_json()["message"]
    assert camp.households.get(rec["id"]) is None and camp.households.count([4789]) == 0


def test_an_account_added_later_works_at_once(app, api):
    camp = app.extensions["survey"]
    camp.users.add("xa-4792", "another password", "officer", 4792)
    assert api.post(URL, household(commune_code=4792), user="xa-4792").status_code == 201


def test_the_department_sets_the_window_through_the_api(api, camp):
    body = {"start": "2020-08-12", "end": "2020-08-30", "agency_deadline": "2020-08-20",
            "province_deadline": "2020-08-31", "target_pct": 50, "stale_days": 3}
    assert api.put("/api/v1/settings", body, user="officer").status_code == 403
    r = api.put("/api/v1/settings", body, user="department")
    assert r.status_code == 200 and (r.json["start"], r.json["end"]) == ("2020-08-12", "2020-08-30")
    assert api.get("/api/v1/settings", user="officer").json["end"] == "2020-08-30"
    assert api.post(URL, household(visited_on="2020-08-28")).status_code == 201
    bad = api.put("/api/v1/settings?lang=en", {**body, "start": "0001-01-01"}, user="department")
    assert bad.status_code == 422 and bad.json["fields"]["start"] == ["Must be between 01/01/2020 and 31/12/2099."]
    assert camp.settings.get().start.isoformat() == "2020-08-12"
