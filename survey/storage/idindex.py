"""Which ids a commune's file holds, without decoding it: sorted 64-bit hashes kept beside it.

A submission must know whether its id is new. Decoding a commune of thousands of records to
find out would cost milliseconds; a sorted array of id hashes, read once per process and
brought up to date from the change log, answers in microseconds. A miss proves the id is
new; a hit is checked against the records themselves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .files import write_derived

__all__ = ["id_hash", "id_hashes", "sorted_has", "write_id_file", "read_id_file", "IdIndex"]

_IDS_MAGIC = b"IDS1"


def id_hash(key: str) -> int:
    """A 64-bit hash of a document id, the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


def id_hashes(keys: Iterable[str]) -> np.ndarray:
    """The sorted hashes of ``keys``."""
    return np.sort(np.fromiter((id_hash(k) for k in keys), dtype=np.int64))


def sorted_has(hashes: np.ndarray, h: int) -> bool:
    """Whether the sorted array ``hashes`` holds ``h``."""
    i = int(hashes.searchsorted(h))  # the method: np.searchsorted's dispatch costs as much again
    return i < len(hashes) and int(hashes[i]) == h


def write_id_file(path: Path, rev: str, hashes: np.ndarray) -> None:
    """Keep a snapshot's sorted id hashes beside it, so no worker decodes it to check an id."""
    body = hashes.astype("<i8").tobytes()
    digest = hashlib.blake2b(body, digest_size=16).digest()
    write_derived(path, _IDS_MAGIC + rev.encode().ljust(16) + digest + body)


def read_id_file(path: Path, rev: str) -> np.ndarray | None:
    """The id hashes kept beside snapshot ``rev``; None if absent, stale or damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    head, digest, body = raw[:20], raw[20:36], raw[36:]
    if head != _IDS_MAGIC + rev.encode().ljust(16) or len(body) % 8:
        return None
    if hashlib.blake2b(body, digest_size=16).digest() != digest:
        return None
    return np.frombuffer(body, dtype="<i8")


class IdIndex:
    """Hashes of the ids a shard holds, as of a snapshot and a log offset, kept per process.

    A sorted array for the snapshot and a set for what the log added since.
    """

    def __init__(self, rev: str, inode: int, base: np.ndarray):
        self.rev, self.inode, self.offset = rev, inode, 0
        self.base = base
        self.recent: set[int] = set()

    def __contains__(self, key: str) -> bool:
        h = id_hash(key)
        return h in self.recent or sorted_has(self.base, h)

    def add(self, changes: list[list]) -> None:
        """Note the ids that logged changes put."""
        self.add_ids(change[1] for change in changes if change[0] == "put")

    def add_ids(self, keys: Iterable[str]) -> None:
        """Note ids now held (put by logged changes)."""
        self.recent.update(id_hash(key) for key in keys)
