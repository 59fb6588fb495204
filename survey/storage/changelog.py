"""The append-only change log beside a commune's file: its format and its appender.

The log's first line names the snapshot revision it extends (``{"base": rev}``); each later
line is one change, ``["put", key, doc]`` or ``["del", key]``, written under the commune's
lock and fdatasync'd after it (``groupsync``: one flush for every line waiting) before the
submission is acknowledged. A torn last line was never acknowledged and is cut off.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import orjson

from . import groupsync
from .errors import StorageUnavailable, describe
from .files import fsync_dir, pread_all
from .idindex import IdIndex, read_id_file

if TYPE_CHECKING:
    from .logged import LoggedCollection

__all__ = ["log_base", "log_changes", "put_ids", "apply_changes", "LogAppender"]

_PUT = b'["put","'  # how orjson writes the head of a put line: no spaces, the id next


def log_base(head: bytes) -> str | None:
    """The snapshot revision a log's first line names; None if that line is not a header."""
    try:
        header = orjson.loads(head)
    except orjson.JSONDecodeError:
        return None
    return header.get("base") if isinstance(header, dict) else None


def log_changes(raw: bytes, rev: str) -> list[list]:
    """The whole lines of a log that extends snapshot ``rev``; none if it extends another one."""
    head, newline, body = raw.partition(b"\n")
    if not newline or log_base(head) != rev:
        return []
    body = body[:body.rfind(b"\n") + 1]  # a torn last line was never acknowledged
    return [orjson.loads(line) for line in body.splitlines() if line]


def put_ids(body: bytes) -> Iterator[str]:
    """The ids that whole log lines put, read from each line's head: a worker catching up
    with what the others appended needs the ids alone, not the documents decoded."""
    for line in body.splitlines():
        if line.startswith(_PUT):
            end = line.find(b'"', len(_PUT))
            key = line[len(_PUT):end]
            if end > 0 and b"\\" not in key:  # an escaped character: decode the line properly
                yield key.decode()
                continue
        if line:
            change = orjson.loads(line)
            if change[0] == "put":
                yield change[1]


def apply_changes(table: dict, changes: list[list]) -> dict:
    """``table`` with logged changes applied in order."""
    for change in changes:
        if change[0] == "put":
            table[change[1]] = change[2]
        else:
            table.pop(change[1], None)
    return table


class LogAppender:
    """The open log of a locked shard: look up ids, append changes (flushed once the lock is left)."""

    def __init__(self, shard: LoggedCollection, fd: int, rev: str):
        self.shard, self.fd, self.rev = shard, fd, rev
        self.inode = 0
        self.size = self._prepare()
        self.index = self._sync_index()

    def _prepare(self) -> int:
        """Start a fresh log for this snapshot, or cut a torn last line; returns the size."""
        st = os.fstat(self.fd)
        size, self.inode = st.st_size, st.st_ino  # the inode stays: the log is cut, never replaced
        head = os.pread(self.fd, 64, 0).partition(b"\n")
        if size and head[1] and log_base(head[0]) == self.rev:
            if os.pread(self.fd, 1, size - 1) == b"\n":
                return size
            raw = pread_all(self.fd, 0, size)
            size = raw.rfind(b"\n") + 1
            groupsync.forget(self.shard.sync_path)
            os.ftruncate(self.fd, size)
            return size
        header = orjson.dumps({"base": self.rev}) + b"\n"
        groupsync.forget(self.shard.sync_path)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, header)
        os.fsync(self.fd)
        fsync_dir(self.shard.log_path.parent)
        return len(header)

    def _sync_index(self) -> IdIndex:
        """This process's id index, brought up to date with what other workers appended."""
        inode = self.inode
        index = self.shard.indexes.get(self.shard.path)
        if index is None or index.rev != self.rev or index.inode != inode or index.offset > self.size:
            base = read_id_file(self.shard.ids_path, self.rev)
            if base is None:
                base = self.shard.write_ids()
            index = IdIndex(self.rev, inode, base)
            self.shard.indexes[self.shard.path] = index
        if index.offset < self.size:
            tail = pread_all(self.fd, index.offset, self.size)
            if index.offset == 0:
                tail = tail.partition(b"\n")[2]
            index.add_ids(put_ids(tail))
            index.offset = self.size
        return index

    def get(self, key: str) -> dict | None:
        """The document stored under ``key`` (a copy), or None."""
        if key not in self.index:
            return None
        doc = self.shard.documents().get(key)
        return dict(doc) if doc is not None else None

    def _append(self, change: list) -> None:
        line = orjson.dumps(change) + b"\n"
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            groupsync.forget(self.shard.sync_path)
            os.ftruncate(self.fd, self.size)
            raise StorageUnavailable(describe(exc, self.shard.path)) from exc
        self.size += len(line)
        self.index.add([change])
        self.index.offset = self.size

    def put(self, key: str, doc: dict) -> None:
        """Insert or replace one document; on disk once the ``appending`` block is left."""
        self._append(["put", key, doc])

    def delete(self, key: str) -> None:
        """Remove one document; on disk once the ``appending`` block is left."""
        self._append(["del", key])
