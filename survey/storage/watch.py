"""Which communes changed, as the kernel saw it: inotify on the households directory.

A change token made of two ``stat`` calls per commune costs ~0.9 ms for the province's 151
communes, on every aggregate request. The kernel already knows when a file changes: every
write to a log, every snapshot renamed into place and every file created or removed in the
directory queues an event before the writing call returns, so before any submission is
acknowledged. Each worker drains its own queue (one non-blocking ``read``) and counts events
per commune; the counts are the token. Linux only, and only for writes made on this machine
(the TinyDB store is one machine's); where inotify cannot be had, callers fall back to stats.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import threading
import weakref
from pathlib import Path

__all__ = ["ChangeWatch"]

_IN_MODIFY, _IN_MOVED_FROM, _IN_MOVED_TO = 0x2, 0x40, 0x80
_IN_CREATE, _IN_DELETE, _IN_DELETE_SELF, _IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
_IN_Q_OVERFLOW, _IN_IGNORED = 0x4000, 0x8000
_WATCHED = _IN_MODIFY | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF
_IN_NONBLOCK, _IN_CLOEXEC = os.O_NONBLOCK, 0o2000000
_EVENT = struct.Struct("iIII")

_libc = None


def _inotify():
    """libc with inotify, or None (not Linux)."""
    global _libc
    if _libc is None:
        try:
            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            lib.inotify_init1, lib.inotify_add_watch  # noqa: B018 (both must exist)
            _libc = lib
        except (OSError, AttributeError):
            _libc = False
    return _libc or None


class ChangeWatch:
    """Counts of changes per commune file (``<code>.*``) in one directory, for this process."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._pid = -1
        self._fd = -1
        self._broken = False
        self._era = 0  # bumped when events were lost: every token changes
        self._counts: dict[int, int] = {}
        self._lock = threading.Lock()

    def token(self, communes: list[int]) -> tuple | None:
        """The change counts of ``communes`` now; None when the kernel cannot watch for us."""
        with self._lock:
            if not self._ready():
                return None
            self._drain()
            if self._broken:
                return None
            counts = self._counts
            return (self._era, *[counts.get(c, 0) for c in communes])

    def _ready(self) -> bool:
        """A watch of our own: made on first use in each process (a forked worker makes its own)."""
        if self._broken:
            return False
        if self._pid == os.getpid():
            return True
        libc = _inotify()
        if libc is None or not self.directory.is_dir():
            return False  # try again later: the directory appears with the first household
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            return False  # too many watches in this process or user: stats for now
        if libc.inotify_add_watch(fd, os.fsencode(self.directory), _WATCHED) < 0:
            os.close(fd)
            return False
        self._fd, self._pid = fd, os.getpid()
        self._era += 1  # anything kept before the watch existed is stale
        weakref.finalize(self, _close, fd, self._pid)
        return True

    def _drain(self) -> None:
        """Count every queued event by the commune its file belongs to."""
        while True:
            try:
                buf = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            self._count(buf)

    def _count(self, buf: bytes) -> None:
        at, counts = 0, self._counts
        while at + _EVENT.size <= len(buf):
            _, mask, _, size = _EVENT.unpack_from(buf, at)
            name = buf[at + _EVENT.size:at + _EVENT.size + size].split(b"\0", 1)[0]
            at += _EVENT.size + size
            if mask & _IN_Q_OVERFLOW:
                self._era += 1
            if mask & (_IN_DELETE_SELF | _IN_MOVE_SELF | _IN_IGNORED):
                self._broken = True  # the directory itself went: stats from now on
            stem = name.split(b".", 1)[0]
            if stem.isdigit():
                code = int(stem)
                counts[code] = counts.get(code, 0) + 1


def _close(fd: int, pid: int) -> None:
    if os.getpid() == pid:
        os.close(fd)
