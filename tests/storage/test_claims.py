"""The id claims a worker keeps: compact, exact across merges, the latest claim winning, read from a snapshot."""

from __future__ import annotations

import os
import uuid

import numpy as np

from survey.storage import claims as claims_module
from survey.storage import owners as owners_module
from survey.storage.claims import IdClaims, Owners
from survey.storage.owners import read_snapshot


def test_owners_answer_every_id_across_merges_and_the_latest_claim_wins():
    owners = Owners()
    ids = [str(uuid.uuid4()) for _ in range(3 * Owners.MERGE_AT + 17)]
    for n, key in enumerate(ids):
        owners.set(key, 4789 + n % 7)
    assert len(owners.hashes) == 3 * Owners.MERGE_AT and len(owners.recent) == 17  # merged as it grew
    assert all(owners.get(key) == 4789 + n % 7 for n, key in enumerate(ids))
    owners.set(ids[0], 4831)  # a move: the newer claim replaces the merged one
    for _ in range(Owners.MERGE_AT):
        owners.set(str(uuid.uuid4()), 4792)
    assert owners.get(ids[0]) == 4831 and owners.get(ids[1]) == 4790
    assert owners.get(str(uuid.uuid4())) is None


def test_a_million_claims_fit_in_a_few_megabytes():
    owners = Owners()
    for _ in range(20 * Owners.MERGE_AT):
        owners.set(str(uuid.uuid4()), 4789)
    per_id = (owners.hashes.nbytes + owners.communes.nbytes) / len(owners.hashes)
    assert per_id == 12  # 8-byte hash and 4-byte commune: ~12 MB for 1,000,000 ids


def _claims_with_lines(root, monkeypatch, n: int) -> tuple[IdClaims, list[str]]:
    monkeypatch.setattr(owners_module, "SNAPSHOT_EVERY", 2000)
    claims = IdClaims(root, lambda: iter(()))
    ids = [str(uuid.uuid4()) for _ in range(n)]
    for start in range(0, n, 50):
        batch = ids[start:start + 50]
        with claims.claiming(batch) as buckets:
            for n_, key in enumerate(batch):
                buckets[claims.bucket_of(key)].claim(key, 4789 + (start + n_) % 5, sync=False)
    return claims, ids


def test_a_new_worker_reads_the_snapshot_and_only_the_lines_after_it(tmp_path, monkeypatch):
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 1500)
    snapshots = sorted(tmp_path.glob("*.owners"))
    assert snapshots, "a bucket parsed past SNAPSHOT_EVERY under its lock keeps a snapshot"
    parsed: list[int] = []
    real_loads = claims_module.orjson.loads
    monkeypatch.setattr(claims_module.orjson, "loads", lambda line: (parsed.append(1), real_loads(line))[1])
    fresh = IdClaims(tmp_path, lambda: iter(()))  # another worker, just started
    assert all(fresh.owner(key) == 4789 + n % 5 for n, key in enumerate(ids))
    assert len(parsed) < len(ids)  # the snapshotted lines were not parsed again
    assert fresh.owner(str(uuid.uuid4())) is None


def test_snapshots_grow_apart_with_the_bucket_so_their_cost_per_claim_stays_flat(tmp_path, monkeypatch):
    written: dict[str, list[int]] = {}
    real_write = claims_module.write_snapshot

    def recording(path, inode, covered, owners):
        written.setdefault(path.name, []).append(covered)
        real_write(path, inode, covered, owners)

    monkeypatch.setattr(claims_module, "write_snapshot", recording)
    monkeypatch.setattr(owners_module, "SNAPSHOT_FRACTION", 2)
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 4000)
    gaps = [(a, b - a) for covered in written.values() for a, b in zip(covered, covered[1:])]
    assert gaps, "buckets of ~250 claims keep several snapshots each"
    # the next snapshot waits for the floor (2,000 bytes) or half of what the last one covered
    assert all(gap >= max(2000, a // 2) for a, gap in gaps)
    assert any(gap > 2000 * 1.4 for _, gap in gaps)  # and the interval did grow beyond the floor
    fresh = IdClaims(tmp_path, lambda: iter(()))
    assert all(fresh.owner(key) == 4789 + n % 5 for n, key in enumerate(ids))


def test_snapshot_due_scales_with_what_the_snapshot_covers():
    assert not owners_module.snapshot_due(owners_module.SNAPSHOT_EVERY - 1, 0)
    assert owners_module.snapshot_due(owners_module.SNAPSHOT_EVERY, 0)
    big = 8 * 1024 * 1024
    assert not owners_module.snapshot_due(big + owners_module.SNAPSHOT_EVERY, big)  # 1/8 of 8 MB is 1 MB
    assert owners_module.snapshot_due(big + big // owners_module.SNAPSHOT_FRACTION, big)


def test_a_snapshot_is_read_into_aligned_arrays_that_answer_as_the_log_does(tmp_path, monkeypatch):
    """The arrays follow a 28-byte head in the file; searched in place, unaligned, numpy would
    copy a whole bucket on every lookup."""
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 1500)
    for snapshot in sorted(tmp_path.glob("*.owners")):
        st = os.stat(tmp_path / snapshot.name.replace(".owners", ".log"))
        covered, owners = read_snapshot(snapshot, st.st_ino, st.st_size)
        assert owners.hashes.flags.aligned and owners.communes.flags.aligned
        assert owners.hashes.dtype == np.int64 and owners.communes.dtype == np.int32
        assert len(owners.hashes) > 0 and bool(np.all(owners.hashes[1:] > owners.hashes[:-1]))
        for n, key in enumerate(ids):
            if claims.bucket_of(key) == int(snapshot.stem, 16) and owners.get(key) is not None:
                assert owners.get(key) == 4789 + n % 5
    unaligned = np.frombuffer(b"\0" * 4 + np.arange(8, dtype="<i8").tobytes(), dtype="<i8", offset=4)
    assert not unaligned.flags.aligned
    kept = Owners.from_arrays(unaligned, np.zeros(8, dtype=np.int32))
    assert kept.hashes.flags.aligned and kept.hashes.tolist() == list(range(8))


def test_a_snapshot_of_another_log_or_past_its_end_is_void_and_a_rebuild_replaces_it(tmp_path, monkeypatch):
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 1500)
    snapshot = sorted(tmp_path.glob("*.owners"))[0]
    log = tmp_path / snapshot.name.replace(".owners", ".log")
    st = os.stat(log)
    assert read_snapshot(snapshot, st.st_ino, st.st_size) is not None
    assert read_snapshot(snapshot, st.st_ino + 1, st.st_size) is None  # a replaced log
    assert read_snapshot(snapshot, st.st_ino, 10) is None  # a log shorter than what it covers
    snapshot.write_bytes(snapshot.read_bytes()[:-3])
    assert read_snapshot(snapshot, st.st_ino, st.st_size) is None  # damaged
    claims.invalidate()
    rebuilt = IdClaims(tmp_path, lambda: iter([(ids[0], 4831)]))
    assert rebuilt.owner(ids[0]) == 4831 and rebuilt.owner(ids[1]) is None
    for bucket in range(claims_module.BUCKETS):  # each snapshot now describes its rebuilt log
        log = tmp_path / f"{bucket:02x}.log"
        st = os.stat(log)
        assert read_snapshot(tmp_path / f"{bucket:02x}.owners", st.st_ino, st.st_size)[0] == st.st_size


def test_a_log_without_its_snapshot_is_read_a_piece_at_a_time(tmp_path, monkeypatch):
    """A copied or restored directory voids every snapshot (they name the log's inode): the
    whole log is then read, and a bucket at 1,000,000 households decoded at once held 50 MB."""
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 1500)
    for snapshot in tmp_path.glob("*.owners"):
        snapshot.unlink()
    monkeypatch.setattr(claims_module, "PARSE_BYTES", 1000)  # about 20 lines
    pieces: list[int] = []
    real_loads = claims_module.orjson.loads
    monkeypatch.setattr(claims_module.orjson, "loads", lambda raw: (pieces.append(raw.count(b"[") - 1),
                                                                    real_loads(raw))[1])
    fresh = IdClaims(tmp_path, lambda: iter(()))
    assert all(fresh.owner(key) == 4789 + n % 5 for n, key in enumerate(ids))
    assert sum(pieces) == len(ids) and max(pieces) * len('["' + ids[0] + '",4789]\n') <= 1000 and len(pieces) > claims_module.BUCKETS


def test_a_line_longer_than_a_piece_is_read_whole(tmp_path, monkeypatch):
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 40)
    monkeypatch.setattr(claims_module, "PARSE_BYTES", 10)  # shorter than any line
    fresh = IdClaims(tmp_path, lambda: iter(()))
    assert all(fresh.owner(key) == 4789 + n % 5 for n, key in enumerate(ids))


def test_a_worker_started_after_a_rebuild_parses_no_claim_line(tmp_path, monkeypatch):
    ids = [str(uuid.uuid4()) for _ in range(3000)]
    IdClaims(tmp_path, lambda: ((key, 4789 + n % 3) for n, key in enumerate(ids))).ensure_complete()
    parsed: list[int] = []
    real_loads = claims_module.orjson.loads
    monkeypatch.setattr(claims_module.orjson, "loads", lambda raw: (parsed.append(1), real_loads(raw))[1])
    worker = IdClaims(tmp_path, lambda: iter(()))
    assert all(worker.owner(key) == 4789 + n % 3 for n, key in enumerate(ids))
    assert worker.owner(str(uuid.uuid4())) is None
    assert parsed == []


def test_own_claims_are_not_parsed_again_and_others_are_caught_up(tmp_path, monkeypatch):
    mine, theirs = IdClaims(tmp_path, lambda: iter(())), IdClaims(tmp_path, lambda: iter(()))
    their_keys, my_keys = [str(uuid.uuid4()) for _ in range(40)], [str(uuid.uuid4()) for _ in range(40)]
    for key in their_keys:
        with theirs.claiming([key]) as buckets:
            buckets[theirs.bucket_of(key)].claim(key, 4789)
    parsed: list[bytes] = []
    real_loads = claims_module.orjson.loads
    monkeypatch.setattr(claims_module.orjson, "loads", lambda raw: (parsed.append(raw), real_loads(raw))[1])
    for key in my_keys:  # only this worker works from here on
        with mine.claiming([key]) as buckets:
            buckets[mine.bucket_of(key)].claim(key, 4792)
    assert all(mine.owner(key) == 4792 for key in my_keys) and all(mine.owner(key) == 4789 for key in their_keys)
    assert not any(key.encode() in raw for raw in parsed for key in my_keys)  # its own lines: known
    assert all(any(key.encode() in raw for raw in parsed) for key in their_keys)  # the others': read


def test_a_snapshot_that_cannot_be_written_costs_no_claim(tmp_path, monkeypatch):
    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(claims_module, "write_snapshot", full_disk)
    claims, ids = _claims_with_lines(tmp_path, monkeypatch, 600)
    assert not list(tmp_path.glob("*.owners"))
    fresh = IdClaims(tmp_path, lambda: iter(()))
    assert all(fresh.owner(key) == 4789 + n % 5 for n, key in enumerate(ids))
