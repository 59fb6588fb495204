"""A collection whose single-document changes go to an append-only log beside its file.

A submission appends one line under the commune's lock and waits, after leaving it, for an
fdatasync that covers the line (``groupsync``), so its cost does not grow with its commune. Once the
log outgrows a quarter of the file, it is compacted: a new snapshot with the log applied is
written atomically and then the log is dropped, so a crash in between leaves a log naming an
older revision, which is ignored. Readers read the log before the snapshot, so they never
miss changes that compaction moved from one to the other.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from tinydb.table import Table

from . import changelog, groupsync, splice
from .cache import CACHE
from .collection import AtomicJSONStorage, Collection
from .errors import StorageUnavailable, describe
from .files import REV_KEY, read_revision
from .idindex import IdIndex, id_hashes, write_id_file

__all__ = ["LoggedCollection", "PendingFlush", "run_flushes", "LOG_SUFFIX", "IDS_SUFFIX", "SYNC_SUFFIX"]

LOG_SUFFIX = ".log"
IDS_SUFFIX = ".ids"
SYNC_SUFFIX = ".sync"
COMPACT_MIN_BYTES = 256 * 1024

logger = logging.getLogger(__name__)


class PendingFlush:
    """Lines of a log written under a lock since released: ``run`` waits until they are on
    disk (``groupsync``) and closes the log; ``drop`` only closes it (the caller failed)."""

    def __init__(self, shard: LoggedCollection, fd: int, end: int, inode: int | None = None):
        self.shard, self.fd, self.end, self.inode = shard, fd, end, inode

    def run(self) -> None:
        """Return once the lines are durable."""
        try:
            groupsync.sync_through(self.fd, self.end, self.shard.sync_path, self.shard.log_path, self.inode)
        finally:
            os.close(self.fd)

    def drop(self) -> None:
        """Close the log without waiting (nothing will be acknowledged)."""
        os.close(self.fd)


def run_flushes(pending: list[PendingFlush]) -> None:
    """Run every pending flush, in order, emptying ``pending``; all logs are closed whatever happens."""
    while pending:
        flush = pending.pop(0)
        try:
            flush.run()
        except BaseException:
            while pending:
                pending.pop().drop()
            raise


class LoggedCollection(Collection):
    """One commune's records: a snapshot file plus the change log that extends it."""

    def __init__(self, path: Path, table: str, indexes: dict | None = None, lock_timeout: float = 10.0,
                 on_snapshot: Callable[[LoggedCollection, str, dict], None] | None = None,
                 on_extend: splice.Extend | None = None):
        super().__init__(path, table, lock_timeout)
        self.on_snapshot, self.on_extend = on_snapshot, on_extend
        self.log_path = path.with_suffix(LOG_SUFFIX)
        self.ids_path = path.with_suffix(IDS_SUFFIX)
        self.sync_path = path.with_suffix(SYNC_SUFFIX)
        self._files = str(path), str(self.log_path)  # made once: every submission opens both
        self.indexes: dict[Path, IdIndex] = {} if indexes is None else indexes

    def _log_signature(self) -> str:
        try:
            st = os.stat(self.log_path)
        except FileNotFoundError:
            return ""
        return f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns}"

    def revision(self) -> str | None:
        """Changes whenever the file is rewritten or the log grows; None while neither exists."""
        log = self._log_signature()
        rev = read_revision(self.path)
        return None if rev is None else f"{rev}+{log}"

    def documents(self, cache: bool = True) -> dict[str, dict]:
        """All documents by id, log applied, shared with the cache: callers must not change them.

        ``cache=False`` is for reading every commune once (exports): it neither fills the
        per-process cache nor pushes the hot files (accounts, recent communes) out of it.
        """
        log = self._log_signature()
        key, rev = str(self.log_path), read_revision(self.path) or ""
        hit = CACHE.get(key if log else str(self.path), f"{rev}+{log}" if log else rev) if rev else None
        if hit is not None:
            return hit if log else hit.get(self.table_name, {})
        try:
            raw = self.log_path.read_bytes() if log else b""
        except FileNotFoundError:
            raw = b""
        data = AtomicJSONStorage(self.path, cached=cache).read() or {}
        table = data.get(self.table_name, {})
        changes = changelog.log_changes(raw, data.get(REV_KEY, "")) if raw else []
        if not changes:
            return table
        merged = changelog.apply_changes(dict(table), changes)
        if cache and data.get(REV_KEY) == rev:
            CACHE.put(key, f"{rev}+{log}", merged, len(raw) * 2 + len(merged) * 100)
        return merged

    def compact_locked(self) -> None:
        """Under the lock: write the snapshot with the log applied, then drop the log. A log
        that only adds records is spliced in without decoding the snapshot (``splice``)."""
        try:
            raw = self.log_path.read_bytes()
        except FileNotFoundError:
            return
        if not splice.compact_spliced(self, raw, self.on_extend):
            self._compact_decoding(raw)
        groupsync.forget(self.sync_path)
        self.log_path.unlink(missing_ok=True)
        CACHE.drop(str(self.log_path))

    def _compact_decoding(self, raw: bytes) -> None:
        """Under the lock: the snapshot decoded, the log applied, the whole written again."""
        data = AtomicJSONStorage(self.path).read() or {}
        changes = changelog.log_changes(raw, data.get(REV_KEY, "")) if raw else []
        if changes:
            fresh = {k: v for k, v in data.items() if k != REV_KEY}
            fresh[self.table_name] = changelog.apply_changes(dict(data.get(self.table_name, {})), changes)
            AtomicJSONStorage(self.path).write(fresh)
            self._snapshot_written(fresh[self.table_name])

    def _compact_if_room(self) -> bool:
        """Under the lock: compact, unless the disk refuses the new snapshot. The snapshot is
        written atomically, so a failure leaves the old one and the whole log: the lines just
        appended are then made durable in the log, and a later append compacts again."""
        try:
            self.compact_locked()  # the log's lines are now in an fsync'd snapshot
        except StorageUnavailable as exc:
            logger.warning("compaction put off: %s", exc)
            return False
        return True

    def compact(self) -> None:
        """Compact the log into the snapshot now (before copying the file, for instance)."""
        with self.locked():
            self.compact_locked()

    def _snapshot_written(self, table: dict | None = None) -> None:
        """Under the lock, after a new snapshot: refresh the files kept beside it (the
        snapshot decoded once at most: a caller that has its table gives it)."""
        rev, table = self._snapshot_table(table)
        self.write_ids(table)
        if self.on_snapshot is not None:
            self.on_snapshot(self, rev, table)

    def _snapshot_table(self, table: dict | None) -> tuple[str, dict]:
        """(the snapshot's revision, its table): ``table`` when given, else read from the file."""
        if table is not None:
            return read_revision(self.path) or "", table
        data = AtomicJSONStorage(self.path).read() or {}
        return data.get(REV_KEY, ""), data.get(self.table_name, {})

    def pending(self) -> tuple[str, list[list]]:
        """(the snapshot's revision, the logged changes on top of it); the log is read first."""
        try:
            raw = self.log_path.read_bytes()
        except FileNotFoundError:
            raw = b""
        rev = read_revision(self.path) or ""
        return rev, (changelog.log_changes(raw, rev) if raw and rev else [])

    def write_ids(self, table: dict | None = None) -> np.ndarray:
        """Under the lock: write the id hashes of the current snapshot beside it."""
        rev, table = self._snapshot_table(table)
        hashes = id_hashes(table)
        write_id_file(self.ids_path, rev, hashes)
        return hashes

    def _snapshot_revision(self) -> str:
        """The snapshot's revision, writing an empty stamped snapshot first if there is none."""
        rev = read_revision(self.path)
        if not rev:
            data = AtomicJSONStorage(self.path, cached=False).read() or {self.table_name: {}}
            AtomicJSONStorage(self.path).write(data)
            rev = read_revision(self.path) or ""
        return rev

    @contextmanager
    def appending(self, deferred: list[PendingFlush] | None = None) -> Iterator[changelog.LogAppender]:
        """The shard's log under the cross-process lock. On leaving, the lock is released first,
        then every line the block wrote or read is made durable (one flush for all waiting);
        with ``deferred``, the flush is added to it instead, to run once the caller's other
        locks are released too."""
        with self.locked():
            rev = self._snapshot_revision()
            try:
                fd = os.open(self._files[1], os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            except OSError as exc:
                raise StorageUnavailable(describe(exc, self.path)) from exc
            try:
                log = changelog.LogAppender(self, fd, rev)
                yield log
                compacted = log.size > max(COMPACT_MIN_BYTES, os.stat(self._files[0]).st_size // 4)
                if compacted:
                    compacted = self._compact_if_room()
            except BaseException:
                os.close(fd)
                raise
        if compacted:
            os.close(fd)
            return
        flush = PendingFlush(self, fd, log.size, log.inode)
        if deferred is None:
            flush.run()
        else:
            deferred.append(flush)

    def flush_all(self) -> PendingFlush | None:
        """What makes every line now in the log durable (before acknowledging a record read
        from it); None if there is no log, every record being in the fsync'd snapshot."""
        try:
            fd = os.open(self.log_path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        return PendingFlush(self, fd, os.fstat(fd).st_size)

    @contextmanager
    def write(self) -> Iterator[Table]:
        """A TinyDB table to change under the lock, the log compacted in first."""
        with self.locked():
            self.compact_locked()
            yield self.table_locked()
            self._snapshot_written()

    def discard_log(self) -> None:
        """Under the lock, before the file is replaced wholesale (a restore): drop the log and
        the files kept beside the snapshot, which describe the old one."""
        for path in (self.sync_path, self.log_path, self.ids_path):
            path.unlink(missing_ok=True)
        CACHE.drop(str(self.log_path))

    def replace_file(self, raw: bytes) -> None:
        """Under the lock, install a whole snapshot: its log and side files go first."""
        self.discard_log()
        super().replace_file(raw)

    def remove_file(self) -> None:
        """Under the lock, remove the snapshot with its log and side files."""
        self.discard_log()
        super().remove_file()
