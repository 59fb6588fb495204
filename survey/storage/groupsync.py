"""Group commit of an append-only file: one fdatasync acknowledges every line written before it began.

The file is the province's journal (``journal``), or, where there is none, a commune's log.
Writers append under a lock and leave it at once; each then waits here, outside that lock,
for an ``fdatasync`` that started after its line was written. The first waiter
syncs; those that arrived meanwhile queue on the sync lock and most find, once they hold
it, that the next sync already covered them. So a slow disk costs one flush per round of
waiting submissions, not one per submission, and appends go on while a flush runs.

What has been flushed is kept in a small state file beside the file, ``(inode, bytes)``,
read and written only under its lock. The state file is removed whenever the file is cut
(under the writers' lock), so a line written later at a lower offset is never taken for
flushed; a state naming another inode (a log dropped for a new one, a journal set aside)
counts for nothing, and the waiter flushes its own file. So ``bytes >= end`` for the same
inode proves the line durable. Nothing here needs to survive a crash: a missing or torn
state file reads as nothing flushed.

With the journal, one flush covers the lines of every commune: submissions spread over the
province's 151 communes share it, where a flush per commune log was one per request under
the benchmark's load (counted with strace, ``python -m bench.flushes``).
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

from .errors import StorageUnavailable, describe

__all__ = ["sync_through", "forget", "PendingFlush", "run_flushes"]

_STATE = struct.Struct("<QQ")


def sync_through(fd: int, end: int, state_path: Path, log_path: Path, ino: int | None = None) -> bool:
    """Return once the first ``end`` bytes of the open log ``fd`` (inode ``ino``, if known) are on disk.

    Returns True if this call ran the ``fdatasync``, False if an earlier one covered them.
    """
    ino = os.fstat(fd).st_ino if ino is None else ino
    try:
        lock = os.open(state_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageUnavailable(describe(exc, state_path)) from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held for one fdatasync at most: no timeout needed
        raw = os.pread(lock, _STATE.size, 0)
        synced_ino, synced = _STATE.unpack(raw) if len(raw) == _STATE.size else (0, 0)
        if synced_ino == ino and synced >= end:
            return False
        target = os.fstat(fd).st_size  # every line written so far, ours and those queued behind us
        try:
            os.fdatasync(fd)
        except OSError as exc:
            raise StorageUnavailable(describe(exc, log_path)) from exc
        os.pwrite(lock, _STATE.pack(ino, target), 0)
        return True
    finally:
        os.close(lock)  # releases the lock


def forget(state_path: Path) -> None:
    """Under the commune's lock, before the log is dropped, restarted or cut."""
    state_path.unlink(missing_ok=True)


class PendingFlush:
    """Lines written under a lock since released: ``run`` waits until they are on disk
    (``sync_through`` of the file that must be flushed: a commune's log, or the journal that
    holds its lines) and closes that file if it was opened for this; ``drop`` only closes it
    (the caller failed: nothing will be acknowledged)."""

    def __init__(self, fd: int, end: int, state_path: Path, path: Path, inode: int | None = None,
                 close: bool = True):
        self.fd, self.end, self.state_path, self.path, self.inode, self.close = fd, end, state_path, path, inode, close

    def run(self) -> None:
        """Return once the lines are durable."""
        try:
            sync_through(self.fd, self.end, self.state_path, self.path, self.inode)
        finally:
            self.drop()

    def drop(self) -> None:
        """Close the file without waiting, if it was opened for this flush."""
        if self.close:
            os.close(self.fd)


def run_flushes(pending: list[PendingFlush]) -> None:
    """Run every pending flush, in order, emptying ``pending``; all files are closed whatever happens."""
    while pending:
        flush = pending.pop(0)
        try:
            flush.run()
        except BaseException:
            while pending:
                pending.pop().drop()
            raise
