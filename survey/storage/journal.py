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
id, and the first process to open the store after it (``recover``) replays the journal into
the logs (``replay``), flushes them and empties the journal. No other process runs then:
each one recovers, under the journal's lock, before it reads or writes a commune.

Once the journal outgrows CHECKPOINT_BYTES, the writer that finds it so renames it aside
(``journal.prev.log``) under the lock, so the next lines start a new journal, and once its
own locks are released it flushes every commune log and removes the old journal (a
checkpoint): writers never wait for those flushes. A torn last line (a writer killed
mid-write) was never acknowledged and is cut by the next writer. Where the boot id cannot
be read, no journal is kept (``Journal.open`` returns None) and each commune's log is
flushed on its own.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson

from . import claims, groupsync
from .errors import StorageUnavailable, describe
from .files import flock, fsync_dir, pread_all, write_atomically
from .replay import replay

__all__ = ["Journal", "JournalHandle", "CHECKPOINT_BYTES"]

CHECKPOINT_BYTES = 64 * 1024 * 1024  # about 70,000 submissions; a replay reads it in a few seconds
RECOVERY_TIMEOUT = 300.0
_RECOVERED = "recovered"
logger = logging.getLogger(__name__)


class JournalHandle:
    """One block of writes' descriptor of the journal: opened at its first line (or for its
    flush), then flushed through ``end`` and closed. ``checkpoint`` holds the checkpoint's
    lock when this block renamed the journal aside and so owes the checkpoint."""

    __slots__ = ("fd", "inode", "end", "checkpoint")

    def __init__(self) -> None:
        self.fd: int | None = None
        self.inode = 0
        self.end: int | None = None
        self.checkpoint: int | None = None

    def close(self) -> None:
        """Close the descriptor and give up a checkpoint owed (the next rotation finishes it)."""
        for fd in (self.fd, self.checkpoint):
            if fd is not None:
                os.close(fd)
        self.fd = self.checkpoint = None


class JournalFlush(groupsync.PendingFlush):
    """A block's flush through its journal lines, then the checkpoint it owes, if any."""

    def __init__(self, journal: Journal, handle: JournalHandle):
        super().__init__(handle.fd, handle.end if handle.end is not None else os.fstat(handle.fd).st_size,
                         journal.sync_path, journal.path, handle.inode, close=False)
        self.journal, self.handle = journal, handle

    def run(self) -> None:
        try:
            groupsync.sync_through(self.fd, self.end, self.state_path, self.path, self.inode)
            if self.handle.checkpoint is not None:
                self.journal.finish_checkpoint()
        finally:
            self.handle.close()

    def drop(self) -> None:
        self.handle.close()


class Journal:
    """The journal of the commune logs in ``logs`` (``<commune>.log``), kept in ``root``."""

    def __init__(self, root: Path, logs: Path, boot_id: str, lock_timeout: float = 10.0):
        self.root, self.logs, self.boot_id, self.lock_timeout = root, logs, boot_id, lock_timeout
        self.path = root / "journal.log"
        self.prev_path = root / "journal.prev.log"
        self.sync_path = root / "journal.sync"
        self._lock_path = str(root / "journal.lock")
        self._checkpoint_lock = str(root / "checkpoint.lock")

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

    def write(self, handle: JournalHandle, commune: str, rev: str, offset: int, data: bytes,
              apply: Callable[[], None]) -> None:
        """Under the caller's commune lock: journal that ``commune``'s log (of snapshot ``rev``)
        holds ``data`` from ``offset`` on, then ``apply`` that to the log, both under the
        journal's lock; ``handle.end`` is then what a flush must cover. If ``apply`` fails,
        the journal line is cut again and the error raised."""
        line = orjson.dumps([commune, rev, offset, data.decode()]) + b"\n"
        with self.locked():
            self._current(handle)
            start = self._whole_end(handle.fd)
            if start >= CHECKPOINT_BYTES and self._rotate(handle):
                self._current(handle)
                fsync_dir(self.root)  # the journal's new name is on disk before a flush of it counts
                start = 0
            try:
                _write_all(handle.fd, line)
            except OSError as exc:
                self._cut(handle.fd, start)
                raise StorageUnavailable(describe(exc, self.path)) from exc
            try:
                apply()
            except BaseException:
                self._cut(handle.fd, start)
                raise
            handle.end = start + len(line)

    def pending(self, handle: JournalHandle) -> JournalFlush:
        """The flush of a block's lines; for a block that only read, of every line so far (and
        of the journal set aside for a checkpoint, which may hold the lines it read)."""
        if handle.fd is None:
            self._current(handle)
            _flush_file(self.prev_path)
        return JournalFlush(self, handle)

    def _current(self, handle: JournalHandle) -> None:
        """Point ``handle`` at the journal now in place (a writer may have set the last aside);
        lines it wrote to the one set aside are flushed first: its flush covers the new one only."""
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if handle.fd is not None and handle.inode == inode:
            return
        if handle.fd is not None:
            if handle.end is not None:
                os.fdatasync(handle.fd)
            os.close(handle.fd)
            handle.fd, handle.end = None, None
        handle.fd = _open_append(self.path)
        handle.inode = os.fstat(handle.fd).st_ino

    def _whole_end(self, fd: int) -> int:
        """The journal's length, a torn last line (its writer was killed) cut first."""
        size = os.fstat(fd).st_size
        if not size or os.pread(fd, 1, size - 1) == b"\n":
            return size
        whole = pread_all(fd, 0, size).rfind(b"\n") + 1
        self._cut(fd, whole)
        return whole

    def _cut(self, fd: int, length: int) -> None:
        """Under the lock: cut the journal to ``length``; what was flushed is forgotten, so a
        line written later at a lower offset is not taken for flushed."""
        groupsync.forget(self.sync_path)
        os.ftruncate(fd, length)

    def _rotate(self, handle: JournalHandle) -> bool:
        """Under the lock: set the full journal aside, if no checkpoint is under way; the
        handle then owes the checkpoint. An old journal still aside (its checkpoint's writer
        was killed) is checkpointed first."""
        lock = os.open(self._checkpoint_lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            return False  # another writer's checkpoint is flushing the logs
        if self.prev_path.exists():
            self._flush_logs()
            self.prev_path.unlink()
        os.rename(self.path, self.prev_path)
        handle.checkpoint = lock
        return True

    def finish_checkpoint(self) -> None:
        """With no lock held: flush every commune log, then drop the journal set aside, whose
        lines the logs now hold on disk."""
        self._flush_logs()
        self.prev_path.unlink(missing_ok=True)
        fsync_dir(self.root)

    def _flush_logs(self) -> None:
        for log in sorted(self.logs.glob("*.log")):
            if log.stem.isdigit():
                _flush_file(log)

    def checkpoint(self) -> None:
        """Flush every commune log and empty the journal, at once (a restore, a recovery)."""
        with self.locked(RECOVERY_TIMEOUT):
            self._checkpoint()

    def _checkpoint(self) -> None:
        self._flush_logs()
        self.prev_path.unlink(missing_ok=True)
        fd = _open_append(self.path)
        try:
            self._cut(fd, 0)
            os.fdatasync(fd)  # the cut is durable before any line is written after it
        finally:
            os.close(fd)
        fsync_dir(self.root)

    @property
    def _marker(self) -> Path:
        return self.root / f"{_RECOVERED}.{self.boot_id}"

    def recover(self) -> None:
        """Once per boot, before the first read or write: replay the journal into the logs."""
        if self._marker.exists():
            return
        with self.locked(RECOVERY_TIMEOUT):  # the other workers wait for the first one's replay
            if not self._marker.exists():
                self._recover()

    def _recover(self) -> None:
        """Under the lock: replay, flush the logs, empty the journal, then mark this boot done."""
        journals = [path.read_bytes() for path in (self.prev_path, self.path) if path.exists()]
        replayed = replay(journals, self.logs)
        if replayed:
            logger.warning("replayed the journal into %d commune logs after a restart", replayed)
        self._checkpoint()
        for stale in self.root.glob(f"{_RECOVERED}.*"):
            stale.unlink()
        write_atomically(self._marker, b"")


def _open_append(path: Path) -> int:
    """A descriptor of the journal. None is kept open between requests: a disk the kernel
    remounts read-only after an error must not be held busy by the service's open files."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open_append(path)
    except OSError as exc:
        raise StorageUnavailable(describe(exc, path)) from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _flush_file(path: Path) -> None:
    """fdatasync one file, if it exists (a compaction may have just removed a log)."""
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
