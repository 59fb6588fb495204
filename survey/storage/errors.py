"""What storage raises: the one error every backend turns its failures into."""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["StorageUnavailable", "describe"]


class StorageUnavailable(Exception):
    """The store cannot take a write now (read-only, full, locked too long, or damaged)."""


_REASONS = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied", errno.EDQUOT: "the disk quota is exceeded"}


def describe(exc: OSError, path: Path) -> str:
    """A sentence an administrator can act on, naming the file and the reason."""
    return f"cannot write {path.name}: {_REASONS.get(exc.errno or 0, exc.strerror or str(exc))}"
