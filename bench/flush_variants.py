"""The service with its ``fdatasync`` replaced, for ``bench.durability`` only: never served to users.

``SURVEY_BENCH_FLUSH`` chooses what a flush becomes in every worker:

- ``none``: nothing. What a submission costs with no durability at all: the upper bound of
  any flush design, group commit included.
- ``wait``: a sleep of ``SURVEY_BENCH_WAIT_US`` microseconds (100 by default) and no I/O. What
  a request pays for waiting once (the worker blocks, the kernel wakes it), whatever it
  waits for: every design that acknowledges a record only once it is on the disk pays at
  least one wait per acknowledged request, so this bounds them all from below.

Every module of the service calls ``os.fdatasync`` through the ``os`` module at the moment
it flushes, so replacing that one attribute before the app is built reaches every flush;
``fsync`` (new files, snapshots, directories) is left as it is.
"""

from __future__ import annotations

import os
import time

from survey import create_app

__all__ = ["app", "VARIANTS"]

VARIANTS = ("none", "wait")


def _no_flush(fd: int) -> None:
    """Nothing reaches the disk before the answer."""


def _wait_only(seconds: float):
    def wait(fd: int) -> None:
        """Block as a flush blocks, without touching the disk."""
        time.sleep(seconds)
    return wait


def _flush(variant: str):
    if variant == "none":
        return _no_flush
    if variant == "wait":
        return _wait_only(int(os.environ.get("SURVEY_BENCH_WAIT_US", "100")) / 1e6)
    raise SystemExit(f"SURVEY_BENCH_FLUSH must be one of {', '.join(VARIANTS)}, not {variant!r}")


os.fdatasync = _flush(os.environ.get("SURVEY_BENCH_FLUSH", ""))
app = create_app()
