"""The household storage contract, run against every backend the service can use.

A backend is only a place to keep records: these tests pin what the households package
relies on (create once, province-wide ids, replace and move, remove, get, scan, count,
derived values, bulk insert), whatever keeps the files or rows.
"""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest

from survey.storage import HouseholdBackend, TinyDBHouseholds

BACKENDS = {"tinydb": TinyDBHouseholds}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, tmp_path) -> HouseholdBackend:
    return BACKENDS[request.param](tmp_path)


def rec(commune: int = 4789, **changes) -> dict:
    record = {"id": str(uuid.uuid4()), "commune_code": commune, "hamlet": "Xóm Mới", "members": 4,
              "created_at": "2020-08-15T09:00:00+07:00"}
    return {**record, **changes}


def test_create_once_stores_a_new_record_and_returns_the_stored_one_after(backend):
    a = rec()
    assert backend.create_once(dict(a)) is None
    assert backend.get(a["id"]) == a
    assert backend.create_once({**a, "members": 9}) == a  # nothing written the second time
    assert backend.count([4789]) == 1 and backend.get(a["id"])["members"] == 4


def test_ids_are_unique_in_the_province_not_only_in_a_commune(backend):
    a = rec(4789)
    backend.create_once(dict(a))
    assert backend.create_once({**a, "commune_code": 4831}) == a
    assert backend.count([4831]) == 0 and list(backend.scan(4831)) == []


def _race(kind: str, root: str, key: str, commune: int, out) -> None:
    store = BACKENDS[kind](Path(root))
    out.put(store.create_once(rec(commune, id=key)) is None)


def test_racing_creates_of_one_id_in_several_processes_store_it_once(backend, tmp_path):
    kind = next(k for k, cls in BACKENDS.items() if isinstance(backend, cls))
    ctx = multiprocessing.get_context("spawn")
    out, key = ctx.Queue(), str(uuid.uuid4())
    procs = [ctx.Process(target=_race, args=(kind, str(tmp_path), key, c, out)) for c in (4789, 4831, 4789, 4792)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(out.get(timeout=5) for _ in procs) == [False, False, False, True]
    assert backend.count([4789, 4792, 4831]) == 1


def test_replace_in_place_and_across_communes(backend):
    a = rec(4789)
    backend.create_once(dict(a))
    backend.replace({**a, "members": 5}, 4789)
    assert backend.get(a["id"])["members"] == 5 and backend.count([4789]) == 1
    backend.replace({**a, "commune_code": 4792, "members": 6}, 4789)
    assert backend.count([4789]) == 0 and [r["members"] for r in backend.scan(4792)] == [6]
    assert backend.get(a["id"])["commune_code"] == 4792
    assert backend.create_once(rec(4789, id=a["id"]))["commune_code"] == 4792  # still taken, where it moved


def test_remove_then_the_record_is_gone(backend):
    a = rec()
    backend.create_once(dict(a))
    assert backend.remove(a) is True and backend.remove(a) is False
    assert backend.get(a["id"]) is None and backend.count([4789]) == 0


def test_scan_keeps_insertion_order_and_count_adds_communes(backend):
    records = [rec(4789) for _ in range(5)] + [rec(4792) for _ in range(2)]
    for r in records:
        backend.create_once(dict(r))
    assert [r["id"] for r in backend.scan(4789)] == [r["id"] for r in records[:5]]
    assert backend.count([4789, 4792]) == 7 and backend.count([4831]) == 0
    assert [r["id"] for r in backend.records([4792, 4789])] == [r["id"] for r in records[5:] + records[:5]]


def test_derived_values_are_recomputed_after_each_write_only(backend):
    calls = []

    def count(records):
        calls.append(1)
        return len(records)
    assert backend.derived(4789, "n", count) == 0
    backend.create_once(rec())
    assert backend.derived(4789, "n", count) == 1 and backend.derived(4789, "n", count) == 1
    assert len(calls) == 2


def test_bulk_insert_skips_ids_stored_anywhere(backend):
    elsewhere = rec(4831)
    backend.create_once(dict(elsewhere))
    batch = [rec(4789) for _ in range(3)] + [{**elsewhere, "commune_code": 4789}]
    assert backend.bulk_insert(4789, batch) == 3
    assert backend.bulk_insert(4789, batch) == 0
    assert backend.count([4789]) == 3 and backend.get(elsewhere["id"])["commune_code"] == 4831
    assert backend.create_once(dict(batch[0])) == batch[0]


def test_is_empty_until_the_first_record(backend):
    assert backend.is_empty()
    backend.create_once(rec())
    assert not backend.is_empty()


def test_backup_files_name_every_commune_and_are_recognised(backend):
    backend.create_once(rec(4792))
    files = backend.backup_files([4789])
    assert {"households/4789.json", "households/4792.json"} <= set(files)
    assert all(backend.file_for(rel) is not None for rel in files)
    assert backend.file_for("users.json") is None and backend.file_for("households/../x.json") is None
