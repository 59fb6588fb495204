"""Storage: atomic files, revisions for cached reads, locks across processes, idempotent create."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from survey.households.records import Conflict
from survey.storage import AtomicJSONStorage, Collection, StorageUnavailable, read_revision
from tests.conftest import household

from .conftest import Store


def stamp() -> str:
    return "2020-08-15T09:00:00+07:00"


def test_write_replaces_the_file_and_stamps_a_revision(tmp_path):
    path = tmp_path / "c.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {"a": {"x": 1}}})
    first = read_revision(path)
    assert json.loads(path.read_text())["t"] == {"a": {"x": 1}}
    storage.write({"t": {"a": {"x": 2}}})
    assert read_revision(path) != first
    assert AtomicJSONStorage(path).read()["t"]["a"]["x"] == 2
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]  # no temp file left behind


def _open_here(directory) -> set[str]:
    """The files under ``directory`` this process has open, by path (other threads' sockets and
    files do not count: the pools of earlier tests may open some meanwhile)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory)):
            found.add(target)
    return found


def test_a_revision_read_again_follows_every_replacement_removal_and_return(tmp_path):
    path = tmp_path / "c.json"
    storage = AtomicJSONStorage(path)
    storage.write({"t": {}})
    first = read_revision(path)
    assert read_revision(path) == first  # from the held descriptor
    other = AtomicJSONStorage(path, cached=False)  # another process's write: a rename over the file
    other.write({"t": {"a": {}}})
    second = read_revision(path)
    assert second not in (first, None) and second == json.loads(path.read_bytes())["_rev"]
    path.unlink()
    assert read_revision(path) is None
    path.write_bytes(b'{"_rev":"0123456789abcdef","t":{}}')
    assert read_revision(path) == "0123456789abcdef"


def test_held_revisions_keep_a_bounded_number_of_files_open(tmp_path, monkeypatch):
    from survey.storage import files
    files.forget_held()
    monkeypatch.setattr(files, "_HELD_MAX", 3)
    for i in range(10):
        AtomicJSONStorage(tmp_path / f"{i}.json").write({"t": {}})
        assert read_revision(tmp_path / f"{i}.json")
    assert _open_here(tmp_path) == {str(tmp_path / f"{i}.json") for i in (7, 8, 9)}  # the newest three
    files.forget_held()
    assert _open_here(tmp_path) == set()


def test_a_failed_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "c.json"
    AtomicJSONStorage(path).write({"t": {"a": {"x": 1}}})
    before = path.read_bytes()

    def crash(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(StorageUnavailable, match="disk is full"):
        AtomicJSONStorage(path).write({"t": {"a": {"x": 2}}})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.json"]


def test_cached_reads_see_writes_from_other_processes(tmp_path):
    coll = Collection(tmp_path / "c.json", "t")
    coll.put("a", {"n": 1})
    assert coll.get("a") == {"n": 1}
    # another process rewrites the file behind this one's cache, with the same size
    proc = multiprocessing.get_context("spawn").Process(target=_put, args=(tmp_path / "c.json", "a", {"n": 2}))
    proc.start()
    proc.join()
    assert coll.get("a") == {"n": 2}


def _put(path, key, doc):
    Collection(path, "t").put(key, doc)


def _add_many(path, prefix, n):
    coll = Collection(path, "t")
    for i in range(n):
        coll.put(f"{prefix}{i}", {"i": i})


def test_writers_in_several_processes_lose_nothing(tmp_path):
    path = tmp_path / "c.json"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add_many, args=(path, p, 25)) for p in "abcd"]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert len(Collection(path, "t").documents()) == 100


def test_create_is_idempotent_on_id(tmp_path):
    store = Store(tmp_path)
    record = {**household(), "district_code": 148, "officer": "officer"}
    stored, created = store.create(dict(record), stamp)
    assert created and stored["created_at"] == stamp()
    again, created = store.create({**record, "officer": "someone-else"}, stamp)
    assert not created and again == stored
    with pytest.raises(Conflict):
        store.create({**record, "members": 5}, stamp)
    assert store.count([4789]) == 1


def test_replace_moves_a_record_between_communes(tmp_path):
    store = Store(tmp_path)
    record = {**household(), "district_code": 148, "officer": "officer"}
    stored, _ = store.create(dict(record), stamp)
    moved = store.replace(stored, {**record, "commune_code": 4792}, lambda: "2020-08-16T10:00:00+07:00")
    assert moved["created_at"] == stored["created_at"] and moved["updated_at"].startswith("2020-08-16")
    assert store.count([4789]) == 0 and store.get(record["id"], [4789, 4792])["commune_code"] == 4792


def test_derived_values_follow_the_file(tmp_path):
    store = Store(tmp_path)
    calls = []

    def count(records):
        calls.append(1)
        return len(records)
    assert store.derived(4789, "n", count) == 0
    store.create({**household(), "district_code": 148, "officer": "o"}, stamp)
    assert store.derived(4789, "n", count) == 1
    assert store.derived(4789, "n", count) == 1
    assert len(calls) == 2  # recomputed once after the write, not on every call


def test_bulk_insert_skips_ids_already_stored(tmp_path):
    store = Store(tmp_path)
    records = [{**household(), "district_code": 148, "officer": "o"} for _ in range(3)]
    assert store.bulk_insert(4789, records) == 3
    assert store.bulk_insert(4789, records) == 0
    assert store.count([4789]) == 3
