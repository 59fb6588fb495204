"""The province's journal: one fdatasync makes the waiting submissions of every commune durable.

A commune's change log (``changelog``) is not flushed on its own. Every byte a writer puts
in a commune's log after its header goes first, under the journal's lock, into this one
journal, as a line ``[commune, snapshot revision, offset, bytes]``: the log holds ``bytes``
from ``offset`` on (empty bytes: the log was cut there). A submission is acknowledged once
the journal is flushed through its line (``groupsync``: the first waiter flushes for every
line written meanwhile, whatever its commune). Under load from the whole province, one
fdatasync then serves every worker waiting, where a flush per commune log served only the
submissions that happened to meet in one commune.

What a flush guards against is a power cut: a killed process leaves its writes in the
kernel's page cache, where every other process reads them. A power cut changes the boot
id, and the first process to open the store after it (``recover``) replays the journal: for
every line whose commune snapshot still has that revision, the log is cut at ``offset`` and
the bytes are written there, in journal order, which leaves every log as its last line said;
then the logs are flushed and the journal emptied. A line of an older revision went into a
snapshot that was fsync'd (a compaction) and is skipped. No other process runs then: each
one recovers, under the journal's lock, before it reads or writes a commune.

The journal is emptied (a checkpoint) once it outgrows CHECKPOINT_BYTES: under its lock,
every commune log is flushed, then the journal is cut to nothing and that cut flushed. A
torn last line (a writer killed mid-write) was never acknowledged and is cut by the next
writer. Where the boot id cannot be read, no journal is kept (``Journal.open`` returns None)
and each commune's log is flushed on its own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from . import claims, groupsync
from .errors import StorageUnavailable, describe
from .files import flock, fsync_dir, pread_all, read_revision, write_atomically

__all__ = ["Journal", "CHECKPOINT_BYTES"]

CHECKPOINT_BYTES = 64 * 1024 * 1024  # about 70,000 submissions; a replay reads it in a few seconds
RECOVERY_TIMEOUT = 300.0
_RECOVERED = "recovered"
logger = logging.getLogger(__name__)


class Journal:
    """The journal of the commune logs in ``logs`` (``<commune>.log``), kept in ``root``."""

    def __init__(self, root: Path, logs: Path, boot_id: str, lock_timeout: float = 10.0):
        self.root, self.logs, self.boot_id, self.lock_timeout = root, logs, boot_id, lock_timeout
        self.path = root / "journal.log"
        self.sync_path = root / "journal.sync"
        self._lock_path = str(root / "journal.lock")

    @classmethod
    def open(cls, root: Path, logs: Path) -> Journal | None:
        """The journal, recovered after a power cut; None where the boot id cannot be read."""
        if claims.BOOT_ID is None:
            return None
        journal = cls(root, logs, claims.BOOT_ID)
        journal.recover()
        return journal

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """The journal's lock: its lines are written in the order their logs' bytes are."""
        timeout = self.lock_timeout if timeout is None else timeout
        try:
            try:
                fd = flock(self._lock_path, timeout)
            except FileNotFoundError:
                self.root.mkdir(parents=True, exist_ok=True)
                fd = flock(self._lock_path, timeout)
        except TimeoutError as exc:
            raise StorageUnavailable("the journal is locked by another writer") from exc
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.root)) from exc
        try:
            yield
        finally:
            os.close(fd)

    def open_fd(self) -> int:
        """A descriptor of the journal, for one block of writes and its flush. None is kept
        open between requests: a disk the kernel remounts read-only after an error must not
        be held busy by the service's open files."""
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            self.root.mkdir(parents=True, exist_ok=True)
            return self.open_fd()
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.path)) from exc

    def pending(self, fd: int, end: int | None = None) -> groupsync.PendingFlush:
        """The flush that makes the journal's first ``end`` bytes durable (all of it by
        default: every line written so far), closing ``fd`` once done."""
        end = os.fstat(fd).st_size if end is None else end
        return groupsync.PendingFlush(fd, end, self.sync_path, self.path)

    def write(self, fd: int, commune: str, rev: str, offset: int, data: bytes, apply: Callable[[], None]) -> int:
        """Under the caller's commune lock: journal that ``commune``'s log (of snapshot ``rev``)
        holds ``data`` from ``offset`` on, then ``apply`` that to the log, both under the
        journal's lock. Returns the journal's length after the line (what a flush must cover).
        If ``apply`` fails, the journal line is cut again and the error raised."""
        line = orjson.dumps([commune, rev, offset, data.decode()]) + b"\n"
        with self.locked():
            start = self._whole_end(fd)
            if start >= CHECKPOINT_BYTES:
                start = self._checkpoint(fd)
            try:
                _write_all(fd, line)
            except OSError as exc:
                self._cut(fd, start)
                raise StorageUnavailable(describe(exc, self.path)) from exc
            try:
                apply()
            except BaseException:
                self._cut(fd, start)
                raise
            return start + len(line)

    def _whole_end(self, fd: int) -> int:
        """The journal's length, a torn last line (its writer was killed) cut first."""
        size = os.fstat(fd).st_size
        if not size or os.pread(fd, 1, size - 1) == b"\n":
            return size
        raw = pread_all(fd, 0, size)
        whole = raw.rfind(b"\n") + 1
        self._cut(fd, whole)
        return whole

    def _cut(self, fd: int, length: int) -> None:
        """Under the lock: cut the journal to ``length``; what was flushed is forgotten, so a
        line written later at a lower offset is not taken for flushed."""
        groupsync.forget(self.sync_path)
        os.ftruncate(fd, length)

    def checkpoint(self) -> None:
        """Flush every commune log and empty the journal (before a restore replaces files)."""
        fd = self.open_fd()
        try:
            with self.locked():
                self._checkpoint(fd)
        finally:
            os.close(fd)

    def _checkpoint(self, fd: int) -> int:
        """Under the lock: every log's bytes are flushed, so the journal's lines are not needed."""
        for log in self._commune_logs():
            _flush_file(log)
        self._cut(fd, 0)
        try:
            os.fdatasync(fd)  # the cut is durable before any line is written after it
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.path)) from exc
        return 0

    def _commune_logs(self) -> Iterator[Path]:
        return (p for p in sorted(self.logs.glob("*.log")) if p.stem.isdigit())

    @property
    def _marker(self) -> Path:
        return self.root / f"{_RECOVERED}.{self.boot_id}"

    def recover(self) -> None:
        """Once per boot, before the first read or write: replay the journal into the logs."""
        if self._marker.exists():
            return
        fd = self.open_fd()
        try:
            with self.locked(RECOVERY_TIMEOUT):  # the other workers wait for the first one's replay
                if not self._marker.exists():
                    self._recover(fd)
        finally:
            os.close(fd)

    def _recover(self, fd: int) -> None:
        """Under the lock: replay, flush the logs, empty the journal, then mark this boot done."""
        replayed = replay(pread_all(fd, 0, os.fstat(fd).st_size), self.logs)
        if replayed:
            logger.warning("replayed the journal into %d commune logs after a restart", replayed)
        self._checkpoint(fd)
        fsync_dir(self.root)  # the journal's own name survives a power cut before it is trusted
        for stale in self.root.glob(f"{_RECOVERED}.*"):
            stale.unlink()
        write_atomically(self._marker, b"")


def replay(raw: bytes, logs: Path) -> int:
    """Apply the journal's whole lines to the commune logs in ``logs``; how many logs changed."""
    touched: dict[str, tuple[int, int]] = {}  # commune -> (open log, shift)
    try:
        for line in raw[:raw.rfind(b"\n") + 1].splitlines():
            commune, rev, offset, data = orjson.loads(line)
            if not commune.isdigit() or read_revision(logs / f"{commune}.json") != rev:
                continue  # compacted since into a snapshot that was flushed, or replaced
            if commune not in touched:
                touched[commune] = (_open_log(logs / f"{commune}.log", rev), 0)
            fd, shift = touched[commune]
            touched[commune] = (fd, _apply(fd, offset - shift, data.encode()) + shift)
        for fd, _ in touched.values():
            os.fdatasync(fd)
    finally:
        for fd, _ in touched.values():
            os.close(fd)
    return len(touched)


def _open_log(path: Path, rev: str) -> int:
    """A commune log to replay into: its header is written afresh if the log is gone."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    header = orjson.dumps({"base": rev}) + b"\n"
    if os.pread(fd, len(header), 0) != header:
        os.ftruncate(fd, 0)
        os.pwrite(fd, header, 0)
    return fd


def _apply(fd: int, offset: int, data: bytes) -> int:
    """Make the log hold ``data`` from ``offset`` on; returns how far short of ``offset`` the
    log was (bytes that no journal line held were lost: the data goes at its end instead)."""
    at = min(offset, os.fstat(fd).st_size)
    if at < offset:
        logger.error("a commune log lost %d bytes the journal did not hold", offset - at)
    os.ftruncate(fd, at)
    short, view = offset - at, memoryview(data)
    while view:
        written = os.pwrite(fd, view, at)
        view, at = view[written:], at + written
    return short


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _flush_file(path: Path) -> None:
    """fdatasync one file, if it still exists (a compaction may have just removed it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fdatasync(fd)
    except OSError as exc:
        raise StorageUnavailable(describe(exc, path)) from exc
    finally:
        os.close(fd)
