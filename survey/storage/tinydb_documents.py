"""The embedded document space: each collection is ``<name>.json`` in the data directory.

The file names are the ones the service has always used (``users.json``, ``history/3f.json``),
so existing data directories and backups keep working.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .collection import Collection
from .documents import DocumentSpace
from .files import write_atomically

__all__ = ["TinyDBDocumentSpace"]

SECRET_FILE = "secret_key"


class TinyDBDocumentSpace(DocumentSpace):
    """Collections as TinyDB files under one data directory."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir)

    def path(self, name: str) -> Path:
        """The file of collection ``name``."""
        return self.root / f"{name}.json"

    def collection(self, name: str, table: str) -> Collection:
        return Collection(self.path(name), table, name=name)

    def names(self, prefix: str) -> list[str]:
        folder, _, start = prefix.rpartition("/")
        base = self.root / folder if folder else self.root
        found = (p for p in base.glob(f"{start}*.json") if not p.name.startswith("."))
        return sorted(p.relative_to(self.root).with_suffix("").as_posix() for p in found)

    def secret_key(self) -> str:
        """Made once in ``<data>/secret_key``: the first worker to link its whole file wins."""
        path = self.root / SECRET_FILE
        if not path.exists():
            tmp = self.root / f".{SECRET_FILE}.{secrets.token_hex(4)}"
            write_atomically(tmp, secrets.token_urlsafe(48).encode())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip()

    def adopt_secret_key(self, key: str) -> None:
        """Written whole (temporary file, then rename): a worker reads the old key or the new."""
        write_atomically(self.root / SECRET_FILE, key.encode())
