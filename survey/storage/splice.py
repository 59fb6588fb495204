"""A compaction that does not decode the commune: the log's new records written after the snapshot's bytes.

Decoding a commune takes 3.4 times its file in a worker (about 37 MB for the largest at
1,000,000 households), and a compaction used to decode it, apply the log, encode it again and
tally it whole: the largest share of an import's peak. Every snapshot is written by orjson,
compact, as ``{"_rev":"<16 hex>","households":{"<id>":{...},...}}`` (the households table
alone: every writer of a commune's file writes that one table). When the log only adds
records the snapshot does not hold (its id hashes say so), each once, the new snapshot is the
old one's bytes with a new revision at the head and the new records after the last one: the
kernel copies the old bytes, the log is decoded a thousand lines at a time (each line checked,
tallied and encoded again), and the id hashes and kept summaries are the old ones' files plus
the new records'. Anything else (a record replaced or deleted, a snapshot of another layout,
an id file or summary missing or stale) goes the decoding way, which writes the same records.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import orjson

from .cache import CACHE
from .changelog import log_base
from .errors import StorageUnavailable, describe
from .files import read_revision, write_all, write_streamed
from .idindex import id_hash, read_id_file, sorted_has, write_id_file

if TYPE_CHECKING:
    from .logged import LoggedCollection

__all__ = ["Extension", "compact_spliced", "snapshot_head", "table_span", "CHUNK_LINES"]

CHUNK_LINES = 1000  # log lines decoded at once: a few MB of records, whatever the log's length


class Extension(Protocol):
    """The kept summaries of a snapshot, extended by records added after it."""

    def add(self, records: list[dict]) -> None:
        """Count records added after those already counted."""

    def write(self, rev: str) -> None:
        """Keep the extended summaries as those of snapshot ``rev``."""


Extend = Callable[["LoggedCollection", str], "Extension | None"]


class _NotSpliceable(Exception):
    """The log does more than add new records: the caller compacts by decoding."""


def snapshot_head(rev: str, table: str) -> bytes:
    """How a snapshot of revision ``rev`` begins, up to its table's first record."""
    return b'{"_rev":"' + rev.encode() + b'","' + table.encode() + b'":{'


def table_span(fd: int, rev: str, table: str) -> tuple[int, int] | None:
    """(where the table's records begin, where they end) in an open snapshot of the expected
    layout; None for any other layout."""
    head, size = snapshot_head(rev, table), os.fstat(fd).st_size
    if size < len(head) + 2 or os.pread(fd, len(head), 0) != head:
        return None
    end = size - 2
    tail = os.pread(fd, 3, end - 1)
    if tail[1:] != b"}}" or (end > len(head) and tail[:1] != b"}"):
        return None
    return len(head), end


def compact_spliced(shard: LoggedCollection, raw: bytes, extend: Extend | None) -> bool:
    """Under the lock: a new snapshot made of the old one's bytes and the log's new records,
    with its id hashes and summaries; True when done (or nothing was to be done), False when
    the log or the files beside the snapshot call for decoding it (nothing is written then)."""
    rev = read_revision(shard.path)
    head, newline, body = raw.partition(b"\n")
    if not rev:
        return False  # no snapshot, or one whose head is not as written here
    if not newline or log_base(head) != rev:
        return True  # a log of another snapshot, or a header alone: nothing to write, it is dropped
    lines = body[:body.rfind(b"\n") + 1]
    if not lines.strip():
        return True
    hashes = read_id_file(shard.ids_path, rev)
    extension = extend(shard, rev) if extend is not None else _NoSummaries()
    if hashes is None or extension is None:
        return False
    try:
        new_rev, added = _write_snapshot(shard, rev, lines, hashes, extension)
    except _NotSpliceable:
        return False
    CACHE.drop(str(shard.path))
    write_id_file(shard.ids_path, new_rev, np.sort(np.concatenate([hashes, added])))
    extension.write(new_rev)
    return True


def _write_snapshot(shard: LoggedCollection, rev: str, lines: bytes, hashes: np.ndarray,
                    extension: Extension) -> tuple[str, np.ndarray]:
    """Write the spliced snapshot atomically; (its revision, the hashes of the ids it added)."""
    new_rev, added = secrets.token_hex(8), []
    try:
        src = os.open(shard.path, os.O_RDONLY)
    except OSError as exc:
        raise StorageUnavailable(describe(exc, shard.path)) from exc
    try:
        span = table_span(src, rev, shard.table_name)
        if span is None:
            raise _NotSpliceable

        def fill(fd: int) -> None:
            write_all(fd, snapshot_head(new_rev, shard.table_name))
            _copy(src, fd, *span)
            added.append(_append_records(fd, lines, hashes, extension, first=span[0] == span[1]))
            write_all(fd, b"}}")
        write_streamed(shard.path, fill)
    except OSError as exc:
        raise StorageUnavailable(describe(exc, shard.path)) from exc
    finally:
        os.close(src)
    return new_rev, added[0]


def _append_records(fd: int, lines: bytes, hashes: np.ndarray, extension: Extension, first: bool) -> np.ndarray:
    """Write the log's records as the table's next entries, a chunk of lines at a time;
    the hashes of their ids. _NotSpliceable when a line does more than add a new record."""
    keys: set[str] = set()
    added = []
    for changes in _chunks(lines):
        for change in changes:
            if not _adds(change) or change[1] in keys:
                raise _NotSpliceable
            h = id_hash(change[1])
            if sorted_has(hashes, h):  # held already, or a hash's false alarm: decode to know
                raise _NotSpliceable
            keys.add(change[1])
            added.append(h)
        entries = b",".join(orjson.dumps(c[1]) + b":" + orjson.dumps(c[2]) for c in changes)
        write_all(fd, entries if first else b"," + entries)
        first = False
        extension.add([c[2] for c in changes])
    return np.array(added, dtype=np.int64)


def _adds(change: Any) -> bool:
    """Whether a decoded log line puts one record (a dict under a string id)."""
    return (isinstance(change, list) and len(change) == 3 and change[0] == "put"
            and isinstance(change[1], str) and isinstance(change[2], dict))


def _chunks(lines: bytes) -> Iterator[list]:
    """The log's whole lines decoded, CHUNK_LINES at a time; a damaged line is for the
    decoding way to report."""
    start = 0
    while start < len(lines):
        end = start
        for _ in range(CHUNK_LINES):
            end = lines.find(b"\n", end) + 1
            if end == 0 or end >= len(lines):
                end = len(lines)
                break
        try:
            yield [orjson.loads(line) for line in lines[start:end].splitlines() if line]
        except orjson.JSONDecodeError:
            raise _NotSpliceable from None
        start = end


def _copy(src: int, dst: int, start: int, end: int) -> None:
    """Bytes ``start`` to ``end`` of ``src`` appended to ``dst`` by the kernel, not through the worker."""
    while start < end:
        try:
            n = os.copy_file_range(src, dst, end - start, start)
        except OSError:  # a file system without it: through a small buffer
            n = len(chunk := os.pread(src, min(end - start, 1 << 20), start))
            write_all(dst, chunk)
        if n == 0:
            raise StorageUnavailable("the snapshot ended while it was copied")
        start += n


class _NoSummaries:
    """A shard that keeps no summaries beside its snapshot."""

    def add(self, records: list[dict]) -> None:
        """Nothing to count."""

    def write(self, rev: str) -> None:
        """Nothing to keep."""
