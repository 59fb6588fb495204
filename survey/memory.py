"""Memory a worker freed, handed back to the system before and after the work that peaks.

glibc keeps what Python frees in its arenas (one per thread that allocated), so a worker's
resident memory stays at the height of its last large piece of work: an export, an import.
The next large transient then starts from there: a sign-in's scrypt fills 32 MB of fresh
memory, and an import in a worker that had built the province's export peaked 30 MB higher
than in one that had not. ``give_back`` returns the free pages (``malloc_trim``), in a few
milliseconds, so each peak starts from what the worker holds, not from what it once held.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc

__all__ = ["give_back"]

_LIBC: list = []


def give_back(collect: bool = False) -> None:
    """Return the free pages of every malloc arena to the system; with ``collect``, after
    collecting garbage (tens of milliseconds in a worker that holds the search indexes: for
    the end of a job, not for a request)."""
    if collect:
        gc.collect()
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(None).malloc_trim)
        except (OSError, AttributeError):  # not glibc: nothing kept that way to give back
            _LIBC.append(None)
    if _LIBC[0] is not None:
        with contextlib.suppress(OSError):
            _LIBC[0](0)
