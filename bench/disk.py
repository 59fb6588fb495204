"""Submissions while a second process writes steadily to the same disk, and the fsync floor beside it.

A quiet disk flatters a service that waits for ``fdatasync``: on a real server, backups,
logs and other programs write to the same disk, and every flush then waits behind their
data. ``DiskWriter`` is that other program, started and stopped by the benchmark itself:
it writes 256 KB chunks and fdatasyncs each, at a steady rate, into a file it rewinds. While
it runs, the bare fdatasync latency of a household-sized line is measured (the floor no
submission can beat), then the service is loaded as in the quiet rounds.

The default rate, 128 MB/s, is near what this machine's disk takes with a flush per chunk
(about 115-175 MB/s measured): 16 MB/s left its fdatasync floor where it was. A disk that
cannot keep up holds the writer below the rate asked; the round reports the rate achieved.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .load import LoadResult, post_load
from .probes import disk_latency

__all__ = ["DiskWriter", "BusyDisk", "busy_round"]

CHUNK = 256 * 1024
WRAP = 64 * 1024 * 1024  # the writer's file never grows past this


def _write_steadily(path: str, mb_per_s: float, stop, done) -> None:
    """Write and fdatasync a chunk every ``CHUNK / rate`` seconds (as fast as it can, if slower).

    ``done`` holds (bytes written, seconds spent), so the rate reported is the one achieved."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk, pause = os.urandom(CHUNK), CHUNK / (mb_per_s * 1024 * 1024)
    offset, start = 0, time.monotonic()
    due = start
    try:
        while not stop.is_set():
            os.pwrite(fd, chunk, offset)
            os.fdatasync(fd)
            offset = (offset + CHUNK) % WRAP
            done[0] += CHUNK
            done[1] = time.monotonic() - start
            due = max(due + pause, time.monotonic() - pause)  # behind: no burst to catch up
            time.sleep(max(0.0, due - time.monotonic()))
    finally:
        os.close(fd)
        os.unlink(path)


class DiskWriter:
    """A second process writing ``mb_per_s`` MB/s with an fdatasync per 256 KB into ``directory``."""

    def __init__(self, directory: Path, mb_per_s: float = 128.0):
        self.path, self.rate = directory / ".disk-writer", mb_per_s
        ctx = multiprocessing.get_context("spawn")  # nothing of the benchmark's state is inherited
        self.stop_event = ctx.Event()
        self.done = ctx.Array("d", 2)  # bytes written, seconds spent
        self.proc = ctx.Process(target=_write_steadily, args=(str(self.path), mb_per_s, self.stop_event, self.done),
                                daemon=True)

    @property
    def achieved_mb_per_s(self) -> float:
        """What the writer really wrote per second so far (a slow disk holds it below the rate asked)."""
        written, seconds = self.done[:]
        return written / (1024 * 1024) / seconds if seconds > 0 else 0.0

    def __enter__(self) -> DiskWriter:
        self.proc.start()
        time.sleep(0.5)  # its first chunks are on their way before anything is measured
        return self

    def __exit__(self, *exc) -> None:
        self.stop_event.set()
        self.proc.join(30)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


@dataclass
class BusyDisk:
    """One submission round on a disk another process writes to, with the floor beside it."""

    load: LoadResult
    floor_p50_ms: float
    floor_p99_ms: float
    writer_mb_per_s: float  # achieved, not asked
    writer_asked_mb_per_s: float = 0.0


def busy_round(url: str, bodies: Path, token: str, seconds: float, connections: int,
               data_dir: Path, mb_per_s: float) -> BusyDisk:
    """Start the writer, measure the fsync floor (2 s), load the service, stop the writer."""
    with DiskWriter(data_dir.parent, mb_per_s) as writer:
        floor_p50, floor_p99 = disk_latency(data_dir)
        load = post_load(url, bodies, token, seconds, connections)
        achieved = writer.achieved_mb_per_s
    return BusyDisk(load, floor_p50, floor_p99, achieved, mb_per_s)
