"""Aggregate answers kept per worker: current after any process writes, per scope, with ETags."""

from __future__ import annotations

import gzip
import json
import multiprocessing

import brotli
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


def _hamlets(api, n: int = 40) -> str:
    """A hamlet-level answer large enough to be compressed."""
    for i in range(n):
        assert api.post("/api/v1/households", household(hamlet=f"Xóm {i}")).status_code == 201
    return URL + "?level=hamlet&commune=4789"


@pytest.mark.parametrize(("accept", "coding", "decode"), [
    ("gzip, br", "br", brotli.decompress), ("gzip, deflate", "gzip", gzip.decompress),
    ("br;q=0, gzip", "gzip", gzip.decompress), ("identity", None, bytes), ("", None, bytes)])
def test_compressed_answers_decode_to_the_same_json(api, accept, coding, decode):
    url = _hamlets(api)
    plain = api.get(url, headers={"Accept-Encoding": ""})
    assert plain.headers.get("Content-Encoding") is None
    r = api.get(url, headers={"Accept-Encoding": accept})
    assert r.status_code == 200 and r.headers.get("Content-Encoding") == coding
    assert "Accept-Encoding" in r.headers["Vary"]
    assert json.loads(decode(r.get_data())) == plain.get_json()
    assert r.headers["ETag"] == (plain.headers["ETag"][:-1] + f':{coding}"' if coding else plain.headers["ETag"])
    if coding:
        assert len(r.get_data()) < len(plain.get_data()) / 4


def test_kept_compressed_bytes_are_replaced_after_a_write(api, app_config):
    url = _hamlets(api, 20)
    first = api.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert api.get(url, headers={"Accept-Encoding": "gzip, br"}).get_data() == first.get_data()  # kept
    write_in_another_process(app_config, household(hamlet="Bản Lác"))
    after = api.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert after.headers["ETag"] != first.headers["ETag"]
    rows = json.loads(brotli.decompress(after.get_data()))["rows"]
    assert {r["name"] for r in rows} == {f"Xóm {i}" for i in range(20)} | {"Bản Lác"}
    assert sum(r["households"] for r in rows) == 21
    held = api.get(url, headers={"Accept-Encoding": "gzip, br", "If-None-Match": after.headers["ETag"]})
    assert held.status_code == 304 and held.headers["ETag"] == after.headers["ETag"]


def test_the_csv_of_the_same_figures_is_unaffected(api):
    _hamlets(api, 40)
    url = "/exports/aggregates.csv?level=hamlet&commune=4789"
    plain = api.get(url, headers={"Accept-Encoding": ""})
    r = api.get(url, headers={"Accept-Encoding": "gzip, br"})
    decode = {None: bytes, "gzip": gzip.decompress, "br": brotli.decompress}[r.headers.get("Content-Encoding")]
    assert plain.status_code == r.status_code == 200 and r.mimetype == plain.mimetype == "text/csv"
    assert decode(r.get_data()) == plain.get_data() and plain.get_data().count(b"\n") == 41
    plain.close()
    r.close()


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
