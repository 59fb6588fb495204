"""What storage raises: the one error every backend turns its failures into."""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = ["NotStored", "StorageUnavailable", "describe"]


class StorageUnavailable(Exception):
    """The store cannot take a write now (read-only, full, locked too long, or damaged)."""


class NotStored(LookupError):
    """The record to replace is not stored where the caller read it (removed or moved since
    it was read): nothing was written. The service answers 404, as for an unknown id."""


_REASONS = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
            errno.EACCES: "permission denied", errno.EDQUOT: "the disk quota is exceeded"}


def describe(exc: OSError, path: Path) -> str:
    """A sentence an administrator can act on, naming the file and the reason."""
    return f"cannot write {path.name}: {_REASONS.get(exc.errno or 0, exc.strerror or str(exc))}"
