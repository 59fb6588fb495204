"""Aggregate answers kept per worker: current after any process writes, per scope, with ETags."""

from __future__ import annotations

import multiprocessing

import pytest

from survey import create_app
from survey.reporting.answers import KeptAnswers

from ..conftest import household

pytestmark = pytest.mark.each_backend

URL = "/api/v1/aggregates"
LEVELS = ("province", "district", "commune", "hamlet")


def _write_elsewhere(config: dict, bodies: list[dict]) -> None:
    """Another worker: its own app on the same store (files or database), storing households as the officer."""
    app = create_app(config)
    token = app.extensions["survey"].users.new_token("officer")
    client = app.test_client()
    for body in bodies:
        r = client.post("/api/v1/households", json=body, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.get_data(as_text=True)


def write_in_another_process(config: dict, *bodies: dict) -> None:
    proc = multiprocessing.get_context("spawn").Process(target=_write_elsewhere, args=(dict(config), list(bodies)))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0


def total(api, level: str, query: str = "") -> int:
    rows = api.get(f"{URL}?level={level}{query}").get_json()["rows"]
    return sum(r["households"] for r in rows)


def test_every_level_is_current_after_another_process_writes(api, app_config):
    assert api.post("/api/v1/households", household()).status_code == 201
    before = {level: total(api, level) for level in LEVELS}
    assert {level: total(api, level) for level in LEVELS} == before  # now kept
    write_in_another_process(app_config, household(), household(hamlet="Bản Lác"))
    assert {level: total(api, level) for level in LEVELS} == {level: n + 2 for level, n in before.items()}
    hamlets = {r["name"] for r in api.get(f"{URL}?level=hamlet&commune=4789").get_json()["rows"]}
    assert hamlets == {"Xóm Mới", "Bản Lác"}


def test_current_after_a_correction_and_a_move_in_this_process(api):
    record = household()
    assert api.post("/api/v1/households", record).status_code == 201
    assert total(api, "commune", "&commune=4789") == 1
    moved = {**record, "commune_code": 4792, "hamlet": "Xóm Bãi"}
    r = api.put(f"/api/v1/households/{record['id']}", moved, user="department")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert total(api, "commune", "&commune=4789") == 0
    assert total(api, "commune", "&commune=4792") == 1
    assert total(api, "province") == 1


def test_a_wider_answer_kept_first_is_never_given_to_a_narrower_scope(api):
    assert api.post("/api/v1/households", household()).status_code == 201
    assert api.post("/api/v1/households", household(commune_code=4792), user="department").status_code == 201
    department = api.get(URL + "?level=commune").get_json()["rows"]
    assert len(department) == 151
    district = api.get(URL + "?level=commune", user="district").get_json()["rows"]
    officer = api.get(URL + "?level=commune", user="officer").get_json()["rows"]
    assert [r["code"] for r in officer] == [4789]
    assert len(district) == 19 and 4789 in {r["code"] for r in district}
    # refusals do not change because an answer is kept
    assert api.get(URL + "?level=province", user="district").status_code == 403
    assert api.get(URL + "?level=district", user="officer").status_code == 403
    assert api.get(URL + "?level=commune", user="agency").status_code == 403
    assert api.get(URL + "?level=commune", user=None).status_code == 401


def test_etag_answers_304_until_a_write(api, app_config):
    first = api.get(URL + "?level=province")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    again = api.get(URL + "?level=province", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    write_in_another_process(app_config, household())
    changed = api.get(URL + "?level=province", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["rows"][0]["households"] == first.get_json()["rows"][0]["households"] + 1


def test_etag_of_a_compressed_answer_revalidates_too(api):
    for n in range(40):  # big enough to be compressed
        assert api.post("/api/v1/households", household(hamlet=f"Xóm {n}")).status_code == 201
    url = URL + "?level=hamlet&commune=4789"
    first = api.get(url, headers={"Accept-Encoding": "br"})
    assert first.headers["Content-Encoding"] == "br"
    etag = first.headers["ETag"]
    assert etag.endswith(':br"')
    again = api.get(url, headers={"Accept-Encoding": "br", "If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag


def test_each_scope_has_its_own_etag(api):
    assert api.post("/api/v1/households", household()).status_code == 201
    department = api.get(URL + "?level=commune").headers["ETag"]
    district = api.get(URL + "?level=commune", user="district")
    assert district.headers["ETag"] != department
    assert api.get(URL + "?level=commune", user="district", headers={"If-None-Match": department}).status_code == 200


def test_kept_answers_compute_again_when_the_token_changes_or_is_missing():
    kept, calls = KeptAnswers(limit=2), []

    def compute(value):
        return lambda: calls.append(value) or value

    assert kept.get("a", 1, compute("x")) == "x"
    assert kept.get("a", 1, compute("y")) == "x"
    assert kept.get("a", 2, compute("z")) == "z"
    assert kept.get("b", None, compute("n1")) == "n1"
    assert kept.get("b", None, compute("n2")) == "n2"  # no token: never kept
    kept.get("c", 1, compute("c"))
    kept.get("d", 1, compute("d"))  # the limit drops the least recent ("a")
    assert kept.get("a", 2, compute("again")) == "again"
    assert calls == ["x", "z", "n1", "n2", "c", "d", "again"]


@pytest.mark.parametrize("level", LEVELS)
def test_kept_rows_equal_rows_computed_afresh(api, camp, level):
    from survey.reporting.aggregate import _rows, aggregate_rows
    for n in range(5):
        assert api.post("/api/v1/households", household(hamlet=f"Xóm {n % 3}")).status_code == 201
    communes = list(camp.gazetteer.communes)
    aggregate_rows(camp, level, communes)
    assert aggregate_rows(camp, level, communes) == _rows(camp, level, communes)


def test_without_inotify_the_stat_token_keeps_answers_current(api, app_config, monkeypatch):
    from survey.storage import watch
    monkeypatch.setattr(watch, "_inotify", lambda: None)
    assert api.post("/api/v1/households", household()).status_code == 201
    before = {level: total(api, level) for level in LEVELS}
    write_in_another_process(app_config, household())
    assert {level: total(api, level) for level in LEVELS} == {level: n + 1 for level, n in before.items()}
