"""The province's journal: what a power cut takes from the commune logs, the journal gives back."""

from __future__ import annotations

import fcntl
import logging
import os
import uuid

import orjson
import pytest

from survey.storage import claims, journal
from survey.storage.errors import StorageUnavailable

from .conftest import Store

STAMP = lambda: "2020-08-15T09:00:00+07:00"  # noqa: E731
COMMUNES = [4789, 4792, 4795]


def rec(commune: int, **extra) -> dict:
    return {"id": str(uuid.uuid4()), "commune_code": commune, "hamlet": "Xóm Mới", "members": 4, **extra}


def _power_cut(store: Store, monkeypatch, keep: int = 0) -> None:
    """What a power cut may leave: every commune log back to its header (plus ``keep`` bytes),
    since nothing flushed them; the journal, flushed, is whole. The kernel's boot id changes."""
    for log in store.root.glob("*.log"):
        header = log.read_bytes().partition(b"\n")[0] + b"\n"
        os.truncate(log, len(header) + keep)
    monkeypatch.setattr(claims, "BOOT_ID", f"boot-{uuid.uuid4()}")


def _stored(store: Store) -> dict[str, dict]:
    return {r["id"]: r for r in store.records(COMMUNES)}


def test_records_lost_from_the_commune_logs_come_back_from_the_journal(tmp_path, monkeypatch):
    store = Store(tmp_path)
    made = [store.create(rec(c), STAMP)[0] for c in COMMUNES for _ in range(5)]
    edited = {**made[0], "members": 9}
    store.backend.replace(edited, made[0]["commune_code"])
    gone = made[1]
    assert store.backend.remove(gone)
    before = _stored(store)
    _power_cut(store, monkeypatch)
    assert all(len(log.read_bytes().splitlines()) == 1 for log in store.root.glob("*.log"))  # lost
    after = Store(tmp_path)  # the first process of the new boot
    assert _stored(after) == before  # the edit kept, the deletion kept, nothing twice
    assert after.get(edited["id"])["members"] == 9 and after.get(gone["id"]) is None
    assert after.backend.journal.path.stat().st_size == 0  # replayed, flushed, emptied
    again = rec(COMMUNES[0])
    after.create(again, STAMP)
    assert after.backend.create_once({**made[2], "commune_code": COMMUNES[1]}) is not None  # claims rebuilt
    assert len(_stored(after)) == len(before) + 1


def test_a_log_that_vanished_is_rebuilt_with_its_header(tmp_path, monkeypatch):
    store = Store(tmp_path)
    made = [store.create(rec(4789), STAMP)[0] for _ in range(3)]
    _power_cut(store, monkeypatch)
    store.shard(4789).log_path.unlink()  # its directory entry never reached the disk
    after = Store(tmp_path)
    assert {r["id"] for r in after.records(COMMUNES)} == {r["id"] for r in made}


def test_a_partly_written_log_is_completed_not_duplicated(tmp_path, monkeypatch):
    store = Store(tmp_path)
    made = [store.create(rec(4789), STAMP)[0] for _ in range(4)]
    log = store.shard(4789).log_path
    lines = log.read_bytes().splitlines(keepends=True)
    _power_cut(store, monkeypatch, keep=len(lines[1]) + 7)  # one line and a torn piece survived
    after = Store(tmp_path)
    assert log.read_bytes() == b"".join(lines)
    assert sorted(r["id"] for r in after.records(COMMUNES)) == sorted(r["id"] for r in made)


def test_lines_compacted_into_a_snapshot_are_not_replayed(tmp_path, monkeypatch, small_compactions):
    store = Store(tmp_path)
    made = [store.create(rec(4789, note="x" * 200), STAMP)[0] for _ in range(12)]  # several compactions
    snapshot_rev = store.shard(4789).pending()[0]
    entries = [orjson.loads(line) for line in store.backend.journal.path.read_bytes().splitlines()]
    assert {e[1] for e in entries} - {snapshot_rev}, "the journal still holds lines of older snapshots"
    _power_cut(store, monkeypatch)
    after = Store(tmp_path)
    ids = [r["id"] for r in after.records(COMMUNES)]
    assert sorted(ids) == sorted(r["id"] for r in made)


def test_a_log_write_that_fails_takes_its_journal_line_back(tmp_path, monkeypatch):
    store = Store(tmp_path)
    store.create(rec(4789), STAMP)
    store.shard(4789).compact()  # a snapshot with records: a batch goes through the log
    batch = [rec(4789) for _ in range(5)]
    real = os.write

    def failing(fd, data):
        if bytes(data).startswith(b'["put"') and os.readlink(f"/proc/self/fd/{fd}").endswith("4789.log"):
            raise OSError(28, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(StorageUnavailable):  # the journal's line went in, then the log's write failed
        store.backend.bulk_insert(4789, batch)
    monkeypatch.setattr(os, "write", real)
    assert store.count([4789]) == 1
    _power_cut(store, monkeypatch)
    assert Store(tmp_path).count([4789]) == 1  # the journal's line for the batch was cut too


def test_a_torn_journal_line_is_cut_by_the_next_writer(tmp_path):
    store = Store(tmp_path)
    store.create(rec(4789), STAMP)
    with open(store.backend.journal.path, "ab") as fh:
        fh.write(b'["4789","abc",12,"[\\"put')  # a writer killed mid-line: never acknowledged
    store.create(rec(4792), STAMP)
    lines = store.backend.journal.path.read_bytes().splitlines()
    assert len(lines) == 2 and all(orjson.loads(line)[0] in ("4789", "4792") for line in lines)


class FlushedSizes:
    """How much of each file a flush made durable, as a power cut would leave it."""

    def __init__(self, monkeypatch):
        self.sizes: dict[str, int] = {}
        real_fdatasync, real_fsync = os.fdatasync, os.fsync
        monkeypatch.setattr(os, "fdatasync", lambda fd: (self._note(fd), real_fdatasync(fd))[1])
        monkeypatch.setattr(os, "fsync", lambda fd: (self._note(fd), real_fsync(fd))[1])

    def _note(self, fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.isfile(path):
            self.sizes[path] = os.fstat(fd).st_size

    def cut_logs(self, store: Store, monkeypatch) -> None:
        """The power cut: every commune log back to what its last flush covered."""
        for log in store.root.glob("*.log"):
            os.truncate(log, self.sizes.get(str(log), 0))
        monkeypatch.setattr(claims, "BOOT_ID", f"boot-{uuid.uuid4()}")


def test_a_full_journal_is_set_aside_and_its_writer_flushes_the_logs_after(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "CHECKPOINT_BYTES", 2000)
    flushed = FlushedSizes(monkeypatch)
    store = Store(tmp_path)
    made = [store.create(rec(c), STAMP)[0] for _ in range(6) for c in COMMUNES]
    j = store.backend.journal
    assert not j.prev_path.exists()  # each checkpoint finished with its writer's request
    assert j.path.stat().st_size < 2000 + 1500
    assert {str(store.shard(c).log_path) for c in COMMUNES} <= set(flushed.sizes)
    before = sum(log.stat().st_size for log in store.root.glob("*.log"))
    flushed.cut_logs(store, monkeypatch)
    assert sum(log.stat().st_size for log in store.root.glob("*.log")) < before  # the unflushed lines went
    assert sorted(r["id"] for r in Store(tmp_path).records(COMMUNES)) == sorted(r["id"] for r in made)


def test_a_journal_set_aside_whose_checkpoint_never_finished_is_replayed_then_finished(tmp_path, monkeypatch):
    flushed = FlushedSizes(monkeypatch)
    store = Store(tmp_path)
    first = [store.create(rec(c), STAMP)[0] for c in COMMUNES]
    j = store.backend.journal
    os.rename(j.path, j.prev_path)  # a writer set it aside and was killed before the checkpoint
    later = [store.create(rec(c), STAMP)[0] for c in COMMUNES]
    flushed.cut_logs(store, monkeypatch)
    after = Store(tmp_path)
    assert sorted(r["id"] for r in after.records(COMMUNES)) == sorted(r["id"] for r in first + later)
    assert not after.backend.journal.prev_path.exists()


def test_while_a_checkpoint_flushes_the_logs_writers_go_on_and_none_other_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "CHECKPOINT_BYTES", 1000)
    store = Store(tmp_path)
    j = store.backend.journal
    j.root.mkdir(parents=True, exist_ok=True)
    busy = os.open(j.root / "checkpoint.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(busy, fcntl.LOCK_EX)  # another worker's checkpoint, flushing the logs
    try:
        made = [store.create(rec(c), STAMP)[0] for _ in range(5) for c in COMMUNES]
        assert j.path.stat().st_size > 1000  # not set aside again meanwhile, and nobody waited
    finally:
        os.close(busy)
    store.create(rec(4789), STAMP)  # the next writer sets it aside and checkpoints
    assert j.path.stat().st_size < 1000 and not j.prev_path.exists()
    assert store.count(COMMUNES) == len(made) + 1


def test_the_journal_is_replayed_once_per_boot(tmp_path, monkeypatch, caplog):
    store = Store(tmp_path)
    store.create(rec(4789), STAMP)
    _power_cut(store, monkeypatch)
    with caplog.at_level(logging.WARNING, logger="survey.storage.journal"):
        Store(tmp_path)
        Store(tmp_path)  # a second worker of the same boot: nothing to replay
    assert [r.message for r in caplog.records].count("replayed the journal into 1 commune logs after a restart") == 1
    markers = sorted(p.name for p in (tmp_path / "journal").glob("recovered.*"))
    assert markers == [f"recovered.{claims.BOOT_ID}"]


def test_a_restore_empties_the_journal(tmp_path):
    store = Store(tmp_path)
    store.create(rec(4789), STAMP)
    assert store.backend.journal.path.stat().st_size > 0
    store.backend.restored()
    assert store.backend.journal.path.stat().st_size == 0


def test_a_torn_line_cut_by_the_next_writer_stays_cut_after_a_power_cut(tmp_path, monkeypatch):
    store = Store(tmp_path)
    kept = store.create(rec(4789), STAMP)[0]
    shard = store.shard(4789)
    rev, size = shard.pending()[0], shard.log_path.stat().st_size
    torn = orjson.dumps(["put", "never-acknowledged", rec(4789)]) + b"\n"
    with open(store.backend.journal.path, "ab") as fh:  # a writer journaled its line...
        fh.write(orjson.dumps(["4789", rev, size, torn.decode()]) + b"\n")
    with open(shard.log_path, "ab") as fh:  # ...and was killed halfway through the log's write
        fh.write(torn[:20])
    assert store.backend.create_once(kept) is not None  # the next writer cuts the torn line, writes nothing
    assert shard.log_path.stat().st_size == size
    _power_cut(store, monkeypatch)
    after = Store(tmp_path)
    assert [r["id"] for r in after.records([4789])] == [kept["id"]]
    assert after.shard(4789).log_path.stat().st_size == size
