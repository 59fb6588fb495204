"""Who holds each id of one claim bucket, kept compact per worker, and its snapshot on disk.

A worker that meets a bucket for the first time would otherwise parse every line of it:
at 1,000,000 households, 62,500 lines a bucket, about 0.4 s each and 6 s for the sixteen,
in every worker after every start, inside the first requests. The snapshot beside the
bucket log holds the sorted hashes and communes as of a length of that log, so a worker
reads it in a millisecond and parses only the lines after it. It is derived data, written
without a flush (tmp file and rename) under the bucket's lock: it names the log's inode and
the length it covers, so a replaced log or a shorter one makes it void, and a missing or
damaged snapshot only costs the parse. A rebuild writes each bucket's snapshot with its log,
and a bucket that grows gets a new one (by whichever worker finds none that recent) once
the lines beyond the last one reach ``snapshot_due``: SNAPSHOT_EVERY bytes, or an eighth of
the log the snapshot covers if that is more. A fixed interval would make the cost of
snapshots grow with the province (at 1,000,000 households a bucket's 750 KB snapshot was
rewritten for every 64 KB of claims); scaled, a snapshot costs about 100 bytes written a
claim at any size, and a started worker parses at most an eighth of a bucket (~2 ms a
bucket at 1,000,000) beyond it.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .idindex import id_hash

__all__ = ["Owners", "read_snapshot", "snapshot_covers", "write_snapshot", "drop_snapshots", "snapshot_due",
           "SNAPSHOT_EVERY"]

# Bytes of bucket log (about 1,400 claims) a worker may parse beyond the last snapshot: a
# worker that starts parses at most this much of each bucket, ~30 ms for the sixteen.
SNAPSHOT_EVERY = 64 * 1024
SNAPSHOT_FRACTION = 8
_HEAD = struct.Struct("<4sQQQ")  # magic, log inode, log length covered, count
_MAGIC = b"OWN1"
SUFFIX = ".owners"


def snapshot_due(offset: int, covered: int) -> bool:
    """Whether a bucket log read to ``offset``, whose snapshot covers ``covered`` bytes, needs a new one."""
    return offset - covered >= max(SNAPSHOT_EVERY, covered // SNAPSHOT_FRACTION)


class Owners:
    """Who holds each id of one bucket, in about 12 bytes an id: sorted 64-bit id hashes with
    their communes, plus a dict of the ids claimed since, merged in once it grows. A worker
    keeps every bucket it has read, so a province of a million ids costs it about 12 MB, not
    the ~180 MB of a dict keyed by the ids themselves."""

    MERGE_AT = 4096

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.int64)
        self.communes = np.empty(0, dtype=np.int32)
        self.recent: dict[int, int] = {}

    def get(self, key: str) -> int | None:
        """The commune that holds ``key``, or None."""
        h = id_hash(key)
        found = self.recent.get(h)
        if found is not None:
            return found
        i = int(self.hashes.searchsorted(h))
        return int(self.communes[i]) if i < len(self.hashes) and int(self.hashes[i]) == h else None

    def set(self, key: str, commune: int) -> None:
        """Note that ``commune`` holds ``key`` (a later claim of an id replaces the earlier)."""
        self.recent[id_hash(key)] = int(commune)
        if len(self.recent) >= self.MERGE_AT:
            self._merge()

    def _merge(self) -> None:
        new = np.fromiter(self.recent.keys(), dtype=np.int64, count=len(self.recent))
        communes = np.fromiter(self.recent.values(), dtype=np.int32, count=len(self.recent))
        kept = ~np.isin(self.hashes, new)
        hashes = np.concatenate([self.hashes[kept], new])
        order = np.argsort(hashes, kind="stable")
        self.hashes, self.communes = hashes[order], np.concatenate([self.communes[kept], communes])[order]
        self.recent = {}

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The sorted hashes and their communes, every recent claim merged in."""
        if self.recent:
            self._merge()
        return self.hashes, self.communes

    @classmethod
    def from_claims(cls, claims: Iterable[tuple[str, int]]) -> Owners:
        """Owners of ``(id, commune)`` pairs in the order they were claimed (the latest wins)."""
        latest = {id_hash(key): int(commune) for key, commune in claims}
        hashes = np.fromiter(latest.keys(), dtype=np.int64, count=len(latest))
        communes = np.fromiter(latest.values(), dtype=np.int32, count=len(latest))
        order = np.argsort(hashes)
        return cls.from_arrays(hashes[order], communes[order])

    @classmethod
    def from_arrays(cls, hashes: np.ndarray, communes: np.ndarray) -> Owners:
        """Owners from sorted, unique hashes and their communes (a snapshot).

        Copied when not aligned in memory, as a snapshot's arrays are (they follow a 28-byte
        head): numpy's ``searchsorted`` copies an unaligned array whole before each search,
        about 14 us per lookup in a bucket of 60,000 ids against 0.6 us aligned, and every
        submission looks up its id twice.
        """
        owners = cls()
        owners.hashes = np.require(hashes, np.int64, "A")
        owners.communes = np.require(communes, np.int32, "A")
        return owners


def read_snapshot(path: Path, inode: int, size: int) -> tuple[int, Owners] | None:
    """(log length covered, owners) from the snapshot of a bucket log; None if void."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(raw) < _HEAD.size:
        return None
    magic, snap_inode, covered, count = _HEAD.unpack_from(raw)
    if magic != _MAGIC or snap_inode != inode or covered > size or len(raw) != _HEAD.size + 12 * count:
        return None
    hashes = np.frombuffer(raw, dtype="<i8", count=count, offset=_HEAD.size)
    communes = np.frombuffer(raw, dtype="<i4", count=count, offset=_HEAD.size + 8 * count)
    return covered, Owners.from_arrays(hashes, communes)


def snapshot_covers(path: Path, inode: int) -> int:
    """How much of the log ``inode`` the snapshot at ``path`` covers (0: none), from its head alone."""
    try:
        with open(path, "rb", buffering=0) as fh:
            head = fh.read(_HEAD.size)
    except FileNotFoundError:
        return 0
    if len(head) < _HEAD.size:
        return 0
    magic, snap_inode, covered, _ = _HEAD.unpack(head)
    return covered if magic == _MAGIC and snap_inode == inode else 0


def write_snapshot(path: Path, inode: int, covered: int, owners: Owners) -> None:
    """Under the bucket's lock: keep ``owners`` as of ``covered`` bytes of the log ``inode``."""
    hashes, communes = owners.arrays()
    payload = (_HEAD.pack(_MAGIC, inode, covered, len(hashes)) + hashes.astype("<i8").tobytes()
               + communes.astype("<i4").tobytes())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(payload)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def drop_snapshots(root: Path) -> None:
    """Under every bucket lock, before the bucket logs are rewritten."""
    for path in root.glob(f"*{SUFFIX}"):
        path.unlink(missing_ok=True)
