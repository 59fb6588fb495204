"""Replaying the province's journal into the commune logs, after a power cut (``journal``).

Each journal line says that a commune's log (of one snapshot revision) holds some bytes from
some offset on. Applied in journal order, the lines leave every log as its last line said:
what a power cut took from the logs, which were not flushed, the journal gives back. A line
of a revision the commune's snapshot no longer has went into that snapshot, which was
flushed (a compaction), and is skipped.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson

from .files import read_revision

__all__ = ["replay"]

logger = logging.getLogger("survey.storage.journal")


def replay(journals: list[bytes], logs: Path) -> int:
    """Apply the whole lines of ``journals`` (the older first) to the commune logs in ``logs``;
    returns how many logs were touched."""
    touched: dict[str, tuple[int, int]] = {}  # commune -> (open log, shift)
    lines = (line for raw in journals for line in raw[:raw.rfind(b"\n") + 1].splitlines())
    try:
        for line in lines:
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
