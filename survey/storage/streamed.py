"""A commune's records read a piece of its file at a time, for reads that go through every record once.

An export of the province decoded each commune whole: 3.4 times the file in the worker, about
37 MB for the largest commune at 1,000,000 households, on top of what the worker holds. A
snapshot is ``{"_rev":"<16 hex>","households":{"<id>":{...},...}}`` (see ``splice``), so its
table can be decoded a megabyte at a time: a piece ends where ``},"`` closes a record, which
orjson itself confirms (a cut inside a text or inside a record leaves a piece that does not
decode, and the piece is cut at the previous candidate instead). The log's changes are then
applied in the order decoding the whole file and applying them would give.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import orjson

from .changelog import log_changes
from .errors import StorageUnavailable
from .files import pread_all
from .splice import table_span

if TYPE_CHECKING:
    from .logged import LoggedCollection

__all__ = ["streamed_records", "streamed_items", "applied", "PIECE_BYTES"]

PIECE_BYTES = 1 << 20
_REV_AT = slice(len(b'{"_rev":"'), len(b'{"_rev":"') + 16)


def streamed_records(shard: LoggedCollection) -> Iterator[dict]:
    """The shard's records, log applied, as ``documents(cache=False).values()`` gives them."""
    return (doc for _, doc in streamed_items(shard))


def streamed_items(shard: LoggedCollection) -> Iterator[tuple[str, dict]]:
    """(id, record) of the shard's records, log applied, as ``documents(cache=False).items()``
    gives them; a snapshot of another layout is decoded whole."""
    try:
        raw = shard.log_path.read_bytes()  # the log first, as every reader: see ``logged``
    except FileNotFoundError:
        raw = b""
    try:
        fd = os.open(shard.path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        rev = os.pread(fd, 32, 0)[_REV_AT].decode("ascii", "replace")
        span = table_span(fd, rev, shard.table_name)
        if span is None:
            yield from shard.documents(cache=False).items()
            return
        changes = log_changes(raw, rev) if raw else []
        yield from applied(_entries(fd, *span, name=shard.path.name), changes)
    finally:
        os.close(fd)


def applied(entries: Iterable[tuple[str, dict]], changes: list[list]) -> Iterator[tuple[str, dict]]:
    """The entries (a snapshot's, in order) with ``changes`` applied, in the
    order ``changelog.apply_changes`` leaves them: a replaced record stays in its place, a new
    one (or one put again after its deletion) comes after the snapshot's, in log order."""
    final: dict[str, dict | None] = {}
    deleted: set[str] = set()
    placed: dict[str, int] = {}  # the put that (re)inserted each id: where a new record goes
    for n, change in enumerate(changes):
        key = change[1]
        if change[0] == "put":
            final[key] = change[2]
            placed.setdefault(key, n)
        else:
            final[key] = None
            deleted.add(key)
            placed.pop(key, None)
    in_snapshot = set()
    for key, doc in entries:
        if key not in final:
            yield key, doc
        elif key not in deleted:
            in_snapshot.add(key)
            yield key, final[key]  # type: ignore[misc]
    for _, key in sorted((n, key) for key, n in placed.items() if key in deleted or key not in in_snapshot):
        yield key, final[key]  # type: ignore[misc]


def _entries(fd: int, start: int, end: int, name: str) -> Iterator[tuple[str, dict]]:
    """(id, record) of the table between ``start`` and ``end``, a piece decoded at a time."""
    pending, offset = b"", start
    while offset < end:
        chunk = pread_all(fd, offset, min(end, offset + PIECE_BYTES))
        if not chunk:
            raise StorageUnavailable(f"{name} ended while it was read")
        offset += len(chunk)
        pending += chunk
        if offset < end:
            docs, pending = _decoded_prefix(pending)
            yield from docs.items()
    try:
        docs = orjson.loads(b"{" + pending + b"}") if pending else {}
    except orjson.JSONDecodeError:
        raise StorageUnavailable(f"{name} is damaged: restore it from a backup") from None
    yield from docs.items()


def _decoded_prefix(pending: bytes) -> tuple[dict, bytes]:
    """(the whole records at the head of ``pending`` decoded, the bytes after them)."""
    cut = pending.rfind(b'},"')
    while cut >= 0:
        try:
            return orjson.loads(b"{" + pending[:cut + 1] + b"}"), pending[cut + 2:]
        except orjson.JSONDecodeError:  # the cut fell inside a text or a record
            cut = pending.rfind(b'},"', 0, cut)
    return {}, pending
