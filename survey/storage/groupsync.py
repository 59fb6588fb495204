"""Group commit of a change log: one fdatasync acknowledges every line written before it began.

Writers append under the commune's lock and leave it at once; each then waits here, outside
that lock, for an ``fdatasync`` that started after its line was written. The first waiter
syncs; those that arrived meanwhile queue on the sync lock and most find, once they hold
it, that the next sync already covered them. So a slow disk costs one flush per round of
waiting submissions, not one per submission, and appends go on while a flush runs.

What has been flushed is kept in a small state file beside the log, ``(inode, bytes)``,
read and written only under its lock. The state file is removed whenever the log is
dropped, restarted or cut (all under the commune's lock), so a state file names either the
log a writer appended to, or a later one; and a later log exists only after the earlier
one's lines went into a snapshot that was itself fsync'd. Either way, ``bytes >= end``
proves the line durable. Nothing here needs to survive a crash: a missing or torn state
file reads as nothing flushed.

A flush covers one commune's log only. Submissions spread over the province's 151 communes
rarely meet in one log, so under the benchmark's load every submission still runs its own
fdatasync (one per request, counted with strace): the sharing pays when one commune is busy
(a team in one village, a slow disk), not across workers in different communes.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

from .errors import StorageUnavailable, describe

__all__ = ["sync_through", "forget"]

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
