"""Files on disk that a crash cannot tear, and locks the kernel frees when a process dies."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomically", "write_streamed", "write_all", "write_derived", "fsync_dir", "read_revision", "flock",
           "pread_all", "REV_KEY"]

REV_KEY = "_rev"
log = logging.getLogger(__name__)
_REV_HEAD = re.compile(rb'^\{"_rev":"([0-9a-f]{16})"')
# Files whose revision ``read_revision`` vouches for, held open: path -> (descriptor, revision).
# A process reads about 170 in a province (accounts, tokens, settings, a snapshot per commune).
_HELD: dict[str, tuple[int, str]] = {}
_HELD_MAX = 256
_HELD_LOCK = threading.Lock()


def read_revision(path: Path) -> str | None:
    """The revision stamped at the head of a data file; None if absent.

    Data files are never changed in place: every writer replaces them whole, by rename (see
    ``write_streamed``). So while the file a revision was read from still has its name (its
    link count, asked of a descriptor kept open, is not 0), the path holds that same file and
    that revision: one ``fstat`` instead of ``open``, ``pread`` and ``close`` on every read
    of the account, token, settings and commune files a submission makes. Holding the file
    open also keeps its inode from being reused for a later file.
    """
    key = os.fspath(path)
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            try:
                if os.fstat(held[0]).st_nlink:
                    return held[1]
            except OSError:
                pass
            del _HELD[key]
            os.close(held[0])
    try:  # os-level: Python's buffered open() costs three more syscalls and ~15 us, on every request
        fd = os.open(key, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        match = _REV_HEAD.match(os.pread(fd, 32, 0))
    except BaseException:
        os.close(fd)
        raise
    rev = match.group(1).decode() if match else ""
    if rev:
        _hold(key, fd, rev)
    else:
        os.close(fd)
    return rev


def _hold(key: str, fd: int, rev: str) -> None:
    """Keep ``fd`` open as the proof of ``rev`` for ``key`` (the oldest let go past the limit)."""
    with _HELD_LOCK:
        old = _HELD.pop(key, None)
        _HELD[key] = (fd, rev)
        while len(_HELD) > _HELD_MAX:
            old_key = next(iter(_HELD))
            os.close(_HELD.pop(old_key)[0])
    if old is not None:
        os.close(old[0])


def forget_held() -> None:
    """Let go of every descriptor kept by ``read_revision`` (tests that remove data directories)."""
    with _HELD_LOCK:
        while _HELD:
            os.close(_HELD.popitem()[1][0])


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` so that a crash leaves the old or new file whole."""
    write_streamed(path, lambda fd: write_all(fd, payload))


def write_streamed(path: Path, fill: Callable[[int], None]) -> None:
    """Replace ``path`` with what ``fill`` writes to the descriptor it is given, so that a
    crash (or ``fill`` raising) leaves the old file whole: for a file too large to hold twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fill(fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data``, however the kernel splits the writes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_derived(path: Path, payload: bytes) -> bool:
    """Write a file derived from the data (a snapshot's id hashes, its tallies), if the disk lets us.

    Such a file only spares work, and every reader checks it against the revision it was made
    from before trusting it. So a write that fails (a full disk) must not fail the submission
    that caused it: the record is stored, the stale file is dropped (freeing its space), and
    the next reader works the value out again. Returns whether the file was written.
    """
    try:
        write_atomically(path, payload)
    except OSError as exc:
        path.unlink(missing_ok=True)
        log.warning("%s not written (%s): it is worked out again when needed", path.name, exc.strerror or exc)
        return False
    return True


def flock(path: str | Path, timeout: float) -> int:
    """A descriptor holding an exclusive ``flock`` on ``path``; the kernel frees it if we die.

    A bare flock costs microseconds where filelock's wrapper costs a sixth of a millisecond,
    and a submission takes this lock once.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline, pause = time.monotonic() + timeout, 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise TimeoutError(f"{path} stayed locked for {timeout} s") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.01)
        except BaseException:
            os.close(fd)
            raise


def pread_all(fd: int, start: int, end: int) -> bytes:
    """Bytes ``start`` to ``end`` of an open file, however the kernel splits the reads."""
    chunks = []
    while start < end:
        chunk = os.pread(fd, end - start, start)
        if not chunk:
            break
        chunks.append(chunk)
        start += len(chunk)
    return b"".join(chunks)
