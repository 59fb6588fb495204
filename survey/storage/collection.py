"""One TinyDB file with one keyed table: atomic writes, cached reads, a cross-process lock.

TinyDB alone is neither crash-safe (``JSONStorage`` rewrites the file in place) nor safe for
several processes. ``AtomicJSONStorage`` writes a temp file, fsyncs it, renames it over the
old one and fsyncs the directory, and stamps a random revision at the head of the file so
readers can tell in one small read whether their decoded copy is current. ``Collection``
wraps one such file with a cross-process lock around every read-modify-write: it is the
embedded implementation of ``documents.DocumentStore``.
"""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from .cache import CACHE
from .documents import Documents, DocumentStore, MemoryDocuments
from .errors import StorageUnavailable, describe
from .files import REV_KEY, flock, read_revision, write_atomically

__all__ = ["AtomicJSONStorage", "KeyedTinyDB", "Collection"]


class AtomicJSONStorage(Storage):
    """A TinyDB storage that never leaves a torn file, with a per-process decoded cache.

    ``cached=False`` is for read-modify-write under a lock: it always decodes from disk
    and hands TinyDB a private copy it may change.
    """

    def __init__(self, path: str | Path, cached: bool = True):
        self.path = path if isinstance(path, Path) else Path(path)  # made on every read: no re-parse
        self.cached = cached

    def read(self) -> dict | None:
        """The decoded file, or None when it does not exist yet."""
        key = str(self.path)
        if self.cached:
            rev = read_revision(self.path)
            if rev is None:
                return None
            hit = CACHE.get(key, rev) if rev else None
            if hit is not None:
                return hit
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        data = self._decode(raw)
        if self.cached and data is not None and data.get(REV_KEY):
            CACHE.put(key, data[REV_KEY], data, len(raw))
        return data

    def _decode(self, raw: bytes) -> dict | None:
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            data = []
        if data is not None and not isinstance(data, dict):
            # Atomic writes never tear a file; this one was damaged from outside (disk, hand edit).
            raise StorageUnavailable(f"{self.path.name} is damaged: restore it from a backup")
        return data

    def write(self, data: dict) -> None:
        """Stamp a new revision and replace the file atomically."""
        data.pop(REV_KEY, None)
        stamped = {REV_KEY: secrets.token_hex(8), **data}
        payload = orjson.dumps(stamped)
        key = str(self.path)
        CACHE.drop(key)
        try:
            write_atomically(self.path, payload)
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.path)) from exc
        CACHE.put(key, stamped[REV_KEY], stamped, len(payload))

    def close(self) -> None:
        """Nothing is held open between operations."""


class KeyedTable(Table):
    """A TinyDB table whose document ids are strings (record UUIDs, usernames, token hashes)."""

    document_id_class = str  # type: ignore[assignment]

    def _get_next_id(self) -> str:  # pragma: no cover - callers always give an id
        raise ValueError("documents in a keyed table need an explicit id")


class KeyedTinyDB(TinyDB):
    """TinyDB whose tables are keyed by strings."""

    table_class = KeyedTable


class Collection(DocumentStore):
    """One TinyDB file with one keyed table: cached reads, locked read-modify-writes."""

    def __init__(self, path: Path, table: str, lock_timeout: float = 10.0, name: str | None = None):
        self.path = path
        self.name = name or path.stem
        self.table_name = table
        self.lock_timeout = lock_timeout
        self._lock_path = str(path) + ".lock"  # made once: a submission takes this lock

    @property
    def table(self) -> str:
        """The TinyDB table inside the file that holds the documents."""
        return self.table_name

    def documents(self) -> dict[str, dict]:
        """All documents by id, shared with the cache: callers must not change them."""
        data = AtomicJSONStorage(self.path).read() or {}
        return data.get(self.table_name, {})

    def get(self, key: str) -> dict | None:
        """One document by id (a copy)."""
        doc = self.documents().get(key)
        return dict(doc) if doc is not None else None

    def revision(self) -> str | None:
        """Changes whenever the file is rewritten; None while it does not exist."""
        return read_revision(self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock of this file (writers wait; readers do not)."""
        try:
            fd = self._lock_file()
        except TimeoutError as exc:
            raise StorageUnavailable(f"{self.path.name} is locked by another writer") from exc
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.path)) from exc
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _lock_file(self) -> int:
        """The lock's descriptor; the directory is made only when it is missing (the first write)."""
        try:
            return flock(self._lock_path, self.lock_timeout)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return flock(self._lock_path, self.lock_timeout)

    @contextmanager
    def update(self) -> Iterator[Documents]:
        """The documents to change under the cross-process lock; written atomically on a clean exit."""
        with self.locked():
            self._drop_stale_temp_files()
            storage = AtomicJSONStorage(self.path, cached=False)
            data = storage.read() or {}
            docs = MemoryDocuments(dict(data.get(self.table_name, {})))
            yield docs
            if docs.changed:
                data[self.table_name] = docs.docs
                storage.write(data)

    @contextmanager
    def write(self) -> Iterator[Table]:
        """A TinyDB table to change under the cross-process lock; every change is on disk on exit."""
        with self.locked():
            self._drop_stale_temp_files()
            yield self.table_locked()

    def table_locked(self) -> Table:
        """The TinyDB table, for a caller that already holds this file's lock."""
        db = KeyedTinyDB(self.path, storage=AtomicJSONStorage, cached=False)
        return db.table(self.table_name, cache_size=0)

    def _drop_stale_temp_files(self) -> None:
        """Temp files of this collection left by a killed writer (only lock holders write them)."""
        for stale in self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"):
            stale.unlink(missing_ok=True)

    def remove_file(self) -> None:
        """Under the lock, remove this collection's file (a restore of a backup without it)."""
        self.path.unlink(missing_ok=True)
        CACHE.drop(str(self.path))

    def replace_file(self, raw: bytes) -> None:
        """Under the lock, install ``raw`` (a whole file checked by the caller) as this collection."""
        write_atomically(self.path, raw)
        CACHE.drop(str(self.path))
