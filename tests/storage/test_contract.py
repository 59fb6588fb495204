"""The household storage contract, run against every backend the service can use.

A backend is only a place to keep records: these tests pin what the households package
relies on (create once, province-wide ids, replace and move, remove, get, scan, count,
derived values, bulk insert), whatever keeps the files or rows.
"""

from __future__ import annotations

import multiprocessing
import random
import unicodedata
import uuid
from collections import Counter
from pathlib import Path

import pytest

from survey.households.records import Conflict, HouseholdRecords
from survey.storage import HouseholdBackend, KeptSummary, NotStored, TinyDBHouseholds
from survey.storage.postgres import kept
from survey.storage.postgres.households import PostgresHouseholds

# Each backend from where it keeps records: a data directory, or a database URL.
BACKENDS = {"tinydb": lambda where: TinyDBHouseholds(Path(where)), "postgresql": PostgresHouseholds}


@pytest.fixture(params=sorted(BACKENDS))
def where(request, tmp_path) -> tuple[str, str]:
    """The backend's kind and its place: a fresh data directory or a fresh database."""
    return request.param, request.getfixturevalue("pg_url") if request.param == "postgresql" else str(tmp_path)


@pytest.fixture
def backend(where) -> HouseholdBackend:
    return BACKENDS[where[0]](where[1])


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


def _race(kind: str, place: str, key: str, commune: int, out) -> None:
    store = BACKENDS[kind](place)
    out.put(store.create_once(rec(commune, id=key)) is None)


def test_racing_creates_of_one_id_in_several_processes_store_it_once(backend, where):
    ctx = multiprocessing.get_context("spawn")
    out, key = ctx.Queue(), str(uuid.uuid4())
    procs = [ctx.Process(target=_race, args=(*where, key, c, out)) for c in (4789, 4831, 4789, 4792)]
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


def test_replacing_a_record_not_stored_there_writes_nothing(backend):
    a, gone = rec(4789), rec(4789)
    backend.create_once(dict(a))
    with pytest.raises(NotStored):
        backend.replace({**gone, "members": 5}, 4789)  # never stored (or removed since it was read)
    with pytest.raises(NotStored):
        backend.replace({**a, "commune_code": 4792}, 4831)  # read in a commune it is not in
    with pytest.raises(NotStored):
        backend.replace({**gone, "commune_code": 4792}, 4789)
    assert backend.get(gone["id"]) is None and backend.get(a["id"]) == a
    assert backend.count([4789]) == 1 and backend.count([4792, 4831]) == 0


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


def test_backup_files_are_the_commune_files_or_none_for_a_database(backend, where):
    """The data directory's files are backed up file by file; a database by pg_dump."""
    backend.create_once(rec(4792))
    files = backend.backup_files([4789])
    if where[0] == "postgresql":
        assert files == {} and backend.file_for("households/4792.json") is None
        return
    assert {"households/4789.json", "households/4792.json"} <= set(files)
    assert all(backend.file_for(rel) is not None for rel in files)
    assert backend.file_for("users.json") is None and backend.file_for("households/../x.json") is None


def test_text_comes_back_exactly_as_stored_in_nfc(backend):
    """Vietnamese names and hamlets round-trip byte for byte, and stay NFC."""
    a = rec(4789, id="hộ-Đà-Bắc-001", hamlet="Xóm Mường Chiềng", head_name="Nguyễn Thị Hằng 𝔸 ☂")
    assert all(unicodedata.is_normalized("NFC", v) for v in a.values() if isinstance(v, str))
    backend.create_once(dict(a))
    assert backend.get(a["id"]) == a and list(backend.scan(4789)) == [a] and list(backend.records([4789])) == [a]
    assert backend.get(unicodedata.normalize("NFD", a["id"])) is None  # ids compare as given


def test_records_keep_their_field_order(backend):
    a = {"id": str(uuid.uuid4()), "commune_code": 4789, "zeta": 1, "alpha": 2, "members": 3}
    backend.create_once(dict(a))
    assert list(backend.get(a["id"])) == list(a) and list(next(iter(backend.scan(4789)))) == list(a)


def test_a_second_instance_sees_every_write_of_the_first(where, monkeypatch):
    """Two workers (or hosts) on one store: no write is missed by the other."""
    one, two = BACKENDS[where[0]](where[1]), BACKENDS[where[0]](where[1])
    a = rec(4789)
    assert two.derived(4789, "n", len) == 0
    one.create_once(dict(a))
    assert two.get(a["id"]) == a and two.count([4789]) == 1 and two.derived(4789, "n", len) == 1
    assert two.create_once(dict(a)) == a
    one.remove(a)
    assert two.get(a["id"]) is None and two.derived(4789, "n", len) == 0


def test_scoping_a_reader_to_its_communes(backend):
    records = HouseholdRecords(backend)
    a = rec(4789)
    records.create(a, lambda: "2020-08-15T09:00:00+07:00")
    assert records.get(a["id"], [4789]) is not None and records.get(a["id"], [4831, 4792]) is None
    with pytest.raises(Conflict):
        records.create({**a, "members": 9}, lambda: "2020-08-16T09:00:00+07:00")


def _hamlets() -> KeptSummary:
    """A kept summary that depends on record order as the search index does."""
    def tally(records):
        return {"ids": "".join(r["id"][:4] + "," for r in records),
                "hamlets": dict(Counter(r["hamlet"] for r in records))}

    def merge(a, b):
        return {"ids": a["ids"] + b["ids"], "hamlets": dict(Counter(a["hamlets"]) + Counter(b["hamlets"]))}
    return KeptSummary(tally=tally, merge=merge, finish=lambda t: t, version="test-1")


def test_kept_summaries_equal_an_independent_recount_through_any_writes(where, monkeypatch, seed):
    """Creates, bulk inserts, replaces, moves and removes in a random order: the kept summary,
    on this instance and on a fresh one, is what a recount of the records gives."""
    monkeypatch.setattr(kept, "STORE_AFTER", 3)
    draw, summary = random.Random(seed), _hamlets()
    backend = BACKENDS[where[0]](where[1])
    backend.keep_summary("hamlets", summary)
    communes, stored = (4789, 4792), {}
    for step in range(60):
        action = draw.choice(["create", "create", "bulk", "replace", "move", "remove"]) if stored else "create"
        commune = draw.choice(communes)
        if action == "create":
            r = rec(commune, hamlet=draw.choice(["Xóm Mới", "Bản Lác", "Tổ 3"]))
            backend.create_once(dict(r))
            stored[r["id"]] = r
        elif action == "bulk":
            batch = [rec(commune, hamlet=draw.choice(["Xóm Mới", "Bản Chiềng"])) for _ in range(draw.randint(1, 4))]
            backend.bulk_insert(commune, batch)
            stored.update((r["id"], r) for r in batch)
        else:
            old = stored[draw.choice(sorted(stored))]
            if action == "remove":
                backend.remove(old)
                del stored[old["id"]]
            else:
                new = {**old, "hamlet": f"Xóm {step}", "commune_code": commune if action == "move" else old["commune_code"]}
                backend.replace(new, old["commune_code"])
                stored[new["id"]] = new
        if draw.random() < 0.5:
            fresh = BACKENDS[where[0]](where[1])
            fresh.keep_summary("hamlets", summary)
            for code in communes:
                expected = summary.tally(list(backend.scan(code)))
                assert backend.derived(code, "hamlets", summary.tally) == expected, (step, action)
                assert fresh.derived(code, "hamlets", summary.tally) == expected, (step, action)
    for code in communes:
        assert backend.count([code]) == sum(r["commune_code"] == code for r in stored.values())
        assert sorted(r["id"] for r in backend.scan(code)) == sorted(k for k, r in stored.items() if r["commune_code"] == code)
