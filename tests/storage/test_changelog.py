"""The household change log: appends, compactions, id files, kept summaries, damaged and racing cases."""

from __future__ import annotations

import errno
import multiprocessing
import uuid

import pytest

from survey import storage
from survey.households.records import Conflict
from survey.storage import StorageUnavailable, collection, files, splice
from survey.storage.idindex import read_id_file

from .conftest import Store

STAMP = lambda: "2020-08-15T09:00:00+07:00"  # noqa: E731


def rec(commune: int = 4789, **changes) -> dict:
    record = {"id": str(uuid.uuid4()), "commune_code": commune, "hamlet": "Xóm Mới", "members": 4}
    record.update(changes)
    return record


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path)


def test_create_then_read_back(store):
    a, b = rec(), rec(hamlet="Bản Lác")
    assert store.create(a, STAMP)[1] and store.create(b, STAMP)[1]
    assert [r["id"] for r in store.records([4789])] == [a["id"], b["id"]]
    assert store.count([4789]) == 2
    assert store.get(b["id"], [4789])["hamlet"] == "Bản Lác"
    assert store.shard(4789).log_path.exists()


def test_retry_is_idempotent_and_other_content_conflicts(store):
    a = rec()
    stored, created = store.create(dict(a), STAMP)
    again, created_again = store.create(dict(a), STAMP)
    assert created and not created_again and again == stored
    with pytest.raises(Conflict):
        store.create({**a, "members": 5}, STAMP)
    assert store.count([4789]) == 1


def test_another_worker_sees_ids_appended_by_this_one(tmp_path):
    first, second = Store(tmp_path), Store(tmp_path)
    a = rec()
    second.create(rec(), STAMP)  # the second worker builds its index before the first writes
    first.create(dict(a), STAMP)
    assert second.create(dict(a), STAMP)[1] is False
    assert second.count([4789]) == 2


def test_compactions_keep_every_record_and_write_the_id_file(store, small_compactions):
    records = [rec() for _ in range(40)]
    for r in records:
        store.create(dict(r), STAMP)
    shard = store.shard(4789)
    assert len(shard.documents()) == 40
    assert shard.log_path.stat().st_size < 1200  # compacted along the way
    rev = storage.read_revision(shard.path)
    assert len(read_id_file(shard.ids_path, rev)) == len(storage.AtomicJSONStorage(shard.path).read()["households"])
    for r in records:  # retries after compactions are still recognised, by a fresh worker too
        assert Store(store.root.parent).create(dict(r), STAMP)[1] is False


def test_a_log_already_compacted_is_ignored(store):
    """A crash between writing the compacted file and removing the log leaves a stale log."""
    records = [rec() for _ in range(3)]
    for r in records:
        store.create(dict(r), STAMP)
    shard = store.shard(4789)
    stale = shard.log_path.read_bytes()
    shard.compact()
    assert not shard.log_path.exists()
    shard.log_path.write_bytes(stale)
    assert len(shard.documents()) == 3
    store.create(rec(), STAMP)
    assert store.count([4789]) == 4
    assert b'"base"' in shard.log_path.read_bytes().splitlines()[0]


def test_a_torn_last_line_is_dropped_and_cut_before_the_next_append(store):
    a = rec()
    store.create(dict(a), STAMP)
    shard = store.shard(4789)
    with open(shard.log_path, "ab") as fh:
        fh.write(b'["put","torn",{"id":"tor')
    assert list(shard.documents()) == [a["id"]]
    b = rec()
    store.create(dict(b), STAMP)
    assert list(Store(store.root.parent).shard(4789).documents()) == [a["id"], b["id"]]


def test_a_damaged_id_file_is_rebuilt(store, small_compactions):
    for _ in range(20):
        store.create(rec(), STAMP)
    shard = store.shard(4789)
    shard.compact()
    raw = bytearray(shard.ids_path.read_bytes())
    raw[-1] ^= 0xFF
    shard.ids_path.write_bytes(bytes(raw))
    assert read_id_file(shard.ids_path, storage.read_revision(shard.path)) is None
    existing = next(iter(shard.documents().values()))
    fresh = Store(store.root.parent)
    assert fresh.create(dict(existing), STAMP)[1] is False


def test_replace_moves_a_record_between_communes(store):
    a = rec()
    stored, _ = store.create(dict(a), STAMP)
    moved = store.replace(stored, {**a, "commune_code": 4792, "hamlet": "Tổ 3"}, STAMP)
    assert store.count([4789]) == 0 and store.count([4792]) == 1
    assert store.get(a["id"], [4792])["hamlet"] == "Tổ 3" and moved["created_at"] == stored["created_at"]


def test_a_bulk_insert_appends_to_the_log_and_tinydb_writes_compact_it_first(store):
    a, b = rec(), rec()
    shard = store.shard(4789)
    assert store.bulk_insert(4789, [rec()]) == 1 and not shard.log_path.exists()  # a first batch: the snapshot
    store.create(dict(a), STAMP)
    assert store.bulk_insert(4789, [b, rec(), dict(a), dict(b)]) == 2  # a stored, b twice in the batch
    logged = shard.pending()[1]
    assert store.count([4789]) == 4 and [c[1] for c in logged[:2]] == [a["id"], b["id"]] and len(logged) == 3
    assert store.backend.remove(dict(a)) is True
    assert store.count([4789]) == 3 and not shard.log_path.exists()


def test_derived_values_follow_each_write(store):
    store.create(rec(), STAMP)
    assert store.derived(4789, "n", len) == 1
    store.create(rec(), STAMP)
    assert store.derived(4789, "n", len) == 2


def test_a_held_lock_makes_writes_unavailable(store):
    shard = store.shard(4789)
    shard.lock_timeout = 0.05
    with shard.locked():
        other = store.shard(4789)
        other.lock_timeout = 0.05
        with pytest.raises(StorageUnavailable), other.appending():
            pass


def _submit_many(root: str, ids: list[str]) -> None:
    store = Store(root)
    for record_id in ids:
        store.create(rec(id=record_id), STAMP)


def test_workers_racing_on_one_commune_store_each_id_once(tmp_path, monkeypatch):
    """Two processes submit the same ids (retries) and their own, with compactions in between."""
    monkeypatch.setattr(storage.logged, "COMPACT_MIN_BYTES", 2000)
    shared = [str(uuid.uuid4()) for _ in range(60)]
    own = [[str(uuid.uuid4()) for _ in range(30)] for _ in range(2)]
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_submit_many, args=(str(tmp_path), shared + mine)) for mine in own]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert Store(tmp_path).count([4789]) == 60 + 30 + 30


def _count_tally(records: list[dict]) -> dict:
    return {"n": len(records), "members": sum(r["members"] for r in records)}


COUNTS = storage.KeptSummary(tally=_count_tally, merge=lambda a, b: {k: a[k] + b[k] for k in a},
                             finish=lambda t: (t["n"], t["members"]), version="1")


def _full(records: list[dict]) -> tuple[int, int]:
    return len(records), sum(r["members"] for r in records)


@pytest.fixture
def kept_store(tmp_path) -> Store:
    store = Store(tmp_path)
    store.keep_summary("counts", COUNTS)
    return store


def test_a_kept_summary_is_written_beside_the_file_and_follows_the_log(kept_store, small_compactions, tmp_path):
    kept_store.bulk_insert(4789, [rec(members=2) for _ in range(5)])
    assert (kept_store.root / "4789.counts.tally").exists()
    for n in range(30):
        kept_store.create(rec(members=3), STAMP)
        if n % 7 == 0:  # a cold worker reads the kept file and adds what was logged since
            fresh = Store(tmp_path)
            fresh.keep_summary("counts", COUNTS)
            assert fresh.derived(4789, "counts", _full) == (6 + n, 10 + 3 * (n + 1))
    assert kept_store.derived(4789, "counts", _full) == (35, 100)


def test_a_kept_summary_is_not_used_when_the_log_changes_earlier_records(kept_store):
    a = rec(members=2)
    stored, _ = kept_store.create(dict(a), STAMP)
    kept_store.shard(4789).compact()
    kept_store.replace(stored, {**a, "members": 7}, STAMP)
    calls = []
    value = kept_store.derived(4789, "counts", lambda records: calls.append(1) or _full(records))
    assert value == (1, 7) and calls == [1]


def test_a_stale_or_foreign_tally_file_is_ignored(kept_store, tmp_path):
    kept_store.bulk_insert(4789, [rec(members=2)])
    path = kept_store.root / "4789.counts.tally"
    path.write_bytes(b'{"rev": "0000000000000000", "version": "1", "tally": {"n": 99, "members": 0}}')
    fresh = Store(tmp_path)
    fresh.keep_summary("counts", COUNTS)
    assert fresh.derived(4789, "counts", _full) == (1, 2)


def test_a_log_with_a_damaged_header_is_started_again(store):
    a = rec()
    store.create(dict(a), STAMP)
    shard = store.shard(4789)
    shard.compact()
    shard.log_path.write_bytes(b'{"base":\x00\x00garbage\n["put","x",{}]\n')
    assert list(shard.documents()) == [a["id"]]
    store.create(rec(), STAMP)
    assert store.count([4789]) == 2


def _full_disk():
    """A ``write_atomically`` (or ``write_streamed``) that fails as it does on a full disk."""
    def refuse(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    return refuse


def test_a_full_disk_that_refuses_compaction_keeps_every_submission_in_the_log(store, small_compactions, monkeypatch):
    first = rec()
    store.create(dict(first), STAMP)
    shard = store.shard(4789)
    rev = storage.read_revision(shard.path)
    room = files.write_atomically
    monkeypatch.setattr(files, "write_atomically", _full_disk())
    monkeypatch.setattr(collection, "write_atomically", _full_disk())
    monkeypatch.setattr(splice, "write_streamed", _full_disk())
    records = [rec() for _ in range(30)]
    for r in records:  # every append outgrows the log limit: each compaction is refused
        assert store.create(dict(r), STAMP)[1] is True
    assert storage.read_revision(shard.path) == rev  # the old snapshot, whole
    assert len(Store(store.root.parent).shard(4789).documents()) == 31
    monkeypatch.setattr(files, "write_atomically", room)
    monkeypatch.setattr(collection, "write_atomically", room)
    monkeypatch.setattr(splice, "write_streamed", files.write_streamed)
    store.create(rec(), STAMP)  # room again: the next append compacts
    assert not shard.log_path.exists() or shard.log_path.stat().st_size < 1200
    assert storage.read_revision(shard.path) != rev and store.count([4789]) == 32
    for r in [first, *records]:
        assert Store(store.root.parent).create(dict(r), STAMP)[1] is False


def test_files_kept_beside_the_data_may_fail_to_be_written_without_failing_a_write(kept_store, small_compactions,
                                                                                    monkeypatch, tmp_path):
    kept_store.bulk_insert(4789, [rec(members=2)])
    monkeypatch.setattr(files, "write_atomically", _full_disk())  # the snapshot itself is still written
    records = [rec(members=3) for _ in range(30)]
    for r in records:
        assert kept_store.create(dict(r), STAMP)[1] is True
    shard = kept_store.shard(4789)
    assert not shard.ids_path.exists() and not (kept_store.root / "4789.counts.tally").exists()
    fresh = Store(tmp_path)  # a cold worker works the ids and the tally out again
    fresh.keep_summary("counts", COUNTS)
    assert fresh.derived(4789, "counts", _full) == (31, 92)
    assert all(fresh.create(dict(r), STAMP)[1] is False for r in records)


def test_the_ids_a_log_puts_are_read_from_line_heads_as_decoding_would_find_them():
    import orjson

    from survey.storage.changelog import put_ids

    keys = [str(uuid.uuid4()), 'quote"inside', "back\\slash", "Xóm Mới", "tab\there", "ü" * 3]
    changes = [["put", key, {"id": key, "note": '","put","decoy"'}] for key in keys]
    changes.insert(2, ["del", keys[0]])
    body = b"".join(orjson.dumps(change) + b"\n" for change in changes)
    assert list(put_ids(body)) == keys
    assert list(put_ids(b"")) == []
