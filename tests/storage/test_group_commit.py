"""Group commit: one fdatasync acknowledges every line waiting; claims are rebuilt after a restart."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import time
import uuid

import orjson

from survey.storage import claims, groupsync

from .conftest import Store

STAMP = lambda: "2020-08-15T09:00:00+07:00"  # noqa: E731
WRITERS, EACH = 4, 5


def rec(commune: int = 4789) -> dict:
    return {"id": str(uuid.uuid4()), "commune_code": commune, "hamlet": "Xóm Mới", "members": 4}


def _log_ids(store: Store, commune: int) -> list[str]:
    lines = store.shard(commune).log_path.read_bytes().splitlines()[1:]
    return [orjson.loads(line)[1] for line in lines if line]


def _state(store: Store, commune: int) -> tuple[int, int]:
    raw = store.shard(commune).sync_path.read_bytes()
    return groupsync._STATE.unpack(raw)


def _submit(root: str, n: int, records: list[dict], first_flushes, flushes) -> None:
    """Worker ``n``: counts its fdatasyncs, checks each acknowledged line is inside a flush."""
    real, done = os.fdatasync, [0]

    def counted(fd: int) -> None:
        done[0] += 1
        real(fd)

    os.fdatasync = counted
    store = Store(root)
    log = store.shard(4789).log_path
    for record in records:
        store.create(record, STAMP)
        ino, synced = _state(store, 4789)
        end = log.read_bytes().index(record["id"].encode())
        assert ino == os.stat(log).st_ino and synced > end, "acknowledged before its flush"
        if record is records[0]:
            first_flushes[n] = done[0]
    flushes[n] = done[0]


def _hold(path, locked, release) -> None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    locked.set()
    release.wait(60)


def test_one_flush_acknowledges_every_submission_that_waited_for_it(tmp_path):
    """While a flush holds the sync lock, workers append and queue; the next flush covers them all."""
    store = Store(tmp_path)
    store.create(rec(), STAMP)  # the log and its header exist; nothing else will flush
    ctx = multiprocessing.get_context("fork")
    locked, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(store.shard(4789).sync_path, locked, release))
    holder.start()  # a flush in progress, in a process of its own (a forked worker would inherit the lock)
    assert locked.wait(30)
    batches = [[rec() for _ in range(EACH)] for _ in range(WRITERS)]
    first_flushes, flushes = multiprocessing.Array("i", WRITERS), multiprocessing.Array("i", WRITERS)
    procs = [ctx.Process(target=_submit, args=(str(tmp_path), n, batch, first_flushes, flushes))
             for n, batch in enumerate(batches)]
    for p in procs:
        p.start()
    firsts = {batch[0]["id"] for batch in batches}
    deadline = time.monotonic() + 60
    while not firsts <= set(_log_ids(store, 4789)):  # every worker's first line written, none acknowledged
        assert time.monotonic() < deadline and all(p.exitcode is None for p in procs), [p.exitcode for p in [holder, *procs]]
        time.sleep(0.01)
    release.set()
    for p in [holder, *procs]:
        p.join(60)
        assert p.exitcode == 0
    assert sum(first_flushes) == 1  # the four waiting lines: one flush acknowledged them all
    assert sum(flushes) <= 1 + WRITERS * (EACH - 1)
    ids = _log_ids(store, 4789)
    assert sorted(ids) == sorted({*ids}) and len(ids) == 1 + WRITERS * EACH  # each stored once
    assert store.count([4789]) == 1 + WRITERS * EACH


def test_sync_through_flushes_once_per_new_line_and_starts_again_when_forgotten(tmp_path):
    log, state = tmp_path / "1.log", tmp_path / "1.sync"
    fd = os.open(log, os.O_RDWR | os.O_CREAT | os.O_APPEND)
    try:
        os.write(fd, b"one\n")
        assert groupsync.sync_through(fd, 4, state, log) is True
        assert groupsync.sync_through(fd, 4, state, log) is False  # already on disk
        os.write(fd, b"two\n")
        os.write(fd, b"three\n")
        assert groupsync.sync_through(fd, 8, state, log) is True
        assert groupsync.sync_through(fd, 14, state, log) is False  # the same flush covered both
        groupsync.forget(state)  # the log was cut or dropped: nothing is known to be flushed
        assert groupsync.sync_through(fd, 4, state, log) is True
    finally:
        os.close(fd)


def test_a_state_naming_another_log_does_not_count(tmp_path):
    log, other, state = tmp_path / "1.log", tmp_path / "2.log", tmp_path / "1.sync"
    fds = [os.open(p, os.O_RDWR | os.O_CREAT | os.O_APPEND) for p in (log, other)]
    try:
        for fd in fds:
            os.write(fd, b"line\n")
        assert groupsync.sync_through(fds[1], 5, state, other) is True
        assert groupsync.sync_through(fds[0], 5, state, log) is True
    finally:
        for fd in fds:
            os.close(fd)


def test_a_retry_found_in_another_commune_is_flushed_before_it_is_answered(tmp_path):
    store = Store(tmp_path)
    first = rec(4789)
    store.create(first, STAMP)
    store.shard(4789).sync_path.unlink()  # as if its writer were still waiting for the flush
    again = {**first, "commune_code": 4792}
    store.backend.create_once(again)  # found through the claim: the holder's log is flushed
    assert _state(store, 4789)[1] == store.shard(4789).log_path.stat().st_size
    assert store.backend.get(first["id"])["commune_code"] == 4789


def test_claims_lost_with_the_page_cache_are_rebuilt_after_a_restart(tmp_path, monkeypatch):
    """A claim is not flushed: a new boot id rebuilds the buckets from the stored records."""
    store = Store(tmp_path)
    kept = rec(4789)
    store.create(kept, STAMP)
    for bucket in (tmp_path / "claims").glob("*.log"):
        bucket.write_bytes(b"")  # the unflushed claim lines, lost in a power cut
    monkeypatch.setattr(claims, "BOOT_ID", "after-the-power-cut")
    fresh = Store(tmp_path)
    assert fresh.backend.claims.owner(kept["id"]) == 4789
    assert fresh.backend.create_once({**kept, "commune_code": 4792}) is not None  # not stored twice
    assert fresh.count([4789, 4792]) == 1
    assert [p.name for p in (tmp_path / "claims").glob("complete*")] == ["complete.after-the-power-cut"]


def test_without_a_boot_id_every_claim_is_flushed_before_its_record(tmp_path, monkeypatch):
    monkeypatch.setattr(claims, "BOOT_ID", None)
    flushed: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (flushed.append(fd), real(fd)))
    store = Store(tmp_path)
    store.create(rec(4789), STAMP)
    assert len(flushed) == 2  # the claim, then the commune's log line
