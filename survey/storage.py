"""Storage: TinyDB files written atomically, locked across processes, one file per commune.

TinyDB alone is neither crash-safe (``JSONStorage`` rewrites the file in place) nor safe
for several processes, and every insert rewrites the whole database. So:

- ``AtomicJSONStorage`` writes a temp file, fsyncs it, renames it over the old one and
  fsyncs the directory: a crash leaves the old file or the new one, never a torn one.
  Each write stamps a random revision at the head of the file, so readers can tell in one
  small read whether their decoded copy is still current.
- ``Collection`` wraps one such file with a cross-process lock around every
  read-modify-write, so gunicorn workers never lose each other's updates.
- ``HouseholdStore`` keeps one collection per commune, so a submission costs the same
  whatever the province's total.

Views and exports never touch files: they go through these classes.
"""

from __future__ import annotations

import errno
import glob
import os
import re
import secrets
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson
from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

__all__ = ["AtomicJSONStorage", "Collection", "HouseholdStore", "StorageUnavailable", "Conflict"]

REV_KEY = "_rev"
_REV_HEAD = re.compile(rb'^\{"_rev":"([0-9a-f]{16})"')
SERVER_FIELDS = ("district_code", "officer", "created_at", "updated_at")


class StorageUnavailable(Exception):
    """The data directory cannot take a write now (read-only, full, or locked too long)."""


class Conflict(Exception):
    """A record with this id exists with different content."""

    def __init__(self, existing: dict):
        super().__init__("a record with this id exists with different content")
        self.existing = existing


class _DecodedCache:
    """Decoded files kept per process, keyed on the file's revision, within a byte budget."""

    def __init__(self, budget_bytes: int = 256 * 1024 * 1024):
        self.budget = budget_bytes
        self.used = 0
        self.items: OrderedDict[str, tuple[str, Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, path: str, rev: str) -> Any | None:
        with self.lock:
            item = self.items.get(path)
            if item is None or item[0] != rev:
                return None
            self.items.move_to_end(path)
            return item[1]

    def put(self, path: str, rev: str, data: Any, size: int) -> None:
        with self.lock:
            old = self.items.pop(path, None)
            if old:
                self.used -= old[2]
            if size > self.budget:
                return
            self.items[path] = (rev, data, size)
            self.used += size
            while self.used > self.budget:
                _, (_, _, dropped) = self.items.popitem(last=False)
                self.used -= dropped

    def drop(self, path: str) -> None:
        with self.lock:
            old = self.items.pop(path, None)
            if old:
                self.used -= old[2]


CACHE = _DecodedCache()


def read_revision(path: Path) -> str | None:
    """The revision stamped at the head of a data file, from one small read; None if absent."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(32)
    except FileNotFoundError:
        return None
    match = _REV_HEAD.match(head)
    return match.group(1).decode() if match else ""


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` so that a crash leaves the old or new file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class AtomicJSONStorage(Storage):
    """A TinyDB storage that never leaves a torn file, with a per-process decoded cache.

    ``cached=False`` is for read-modify-write under a lock: it always decodes from disk
    and hands TinyDB a private copy it may change.
    """

    def __init__(self, path: str | Path, cached: bool = True):
        self.path = Path(path)
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
        try:
            data = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            # Atomic writes never tear a file; this one was damaged from outside (disk, hand edit).
            raise StorageUnavailable(f"{self.path.name} is damaged: restore it from a backup") from None
        if self.cached and data is not None and data.get(REV_KEY):
            CACHE.put(key, data[REV_KEY], data, len(raw))
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
            raise StorageUnavailable(_describe(exc, self.path)) from exc
        CACHE.put(key, stamped[REV_KEY], stamped, len(payload))

    def close(self) -> None:
        """Nothing is held open between operations."""


def _describe(exc: OSError, path: Path) -> str:
    reasons = {errno.ENOSPC: "the disk is full", errno.EROFS: "the file system is read-only",
               errno.EACCES: "permission denied", errno.EDQUOT: "the disk quota is exceeded"}
    return f"cannot write {path.name}: {reasons.get(exc.errno, exc.strerror or str(exc))}"


class KeyedTable(Table):
    """A TinyDB table whose document ids are strings (record UUIDs, usernames, token hashes)."""

    document_id_class = str  # type: ignore[assignment]

    def _get_next_id(self) -> str:  # pragma: no cover - callers always give an id
        raise ValueError("documents in a keyed table need an explicit id")


class _KeyedTinyDB(TinyDB):
    table_class = KeyedTable


class Collection:
    """One TinyDB file with one keyed table: cached reads, locked read-modify-writes."""

    def __init__(self, path: Path, table: str, lock_timeout: float = 10.0):
        self.path = path
        self.table_name = table
        self.lock_timeout = lock_timeout

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
        lock = FileLock(str(self.path) + ".lock", timeout=self.lock_timeout)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except Timeout as exc:
            raise StorageUnavailable(f"{self.path.name} is locked by another writer") from exc
        except OSError as exc:
            raise StorageUnavailable(_describe(exc, self.path)) from exc
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def write(self) -> Iterator[Table]:
        """A table to change under the cross-process lock; every change is on disk on exit."""
        with self.locked():
            self._drop_stale_temp_files()
            db = _KeyedTinyDB(self.path, storage=AtomicJSONStorage, cached=False)
            yield db.table(self.table_name, cache_size=0)

    def _drop_stale_temp_files(self) -> None:
        """Temp files of this collection left by a killed writer (only lock holders write them)."""
        for stale in self.path.parent.glob(f".{glob.escape(self.path.name)}.*.tmp"):
            stale.unlink(missing_ok=True)

    def put(self, key: str, doc: dict) -> None:
        """Insert or replace one document."""
        with self.write() as table:
            table.upsert(Document(doc, doc_id=key))


def content_of(record: dict) -> dict:
    """A record without the fields the server sets, for comparing submissions."""
    return {k: v for k, v in record.items() if k not in SERVER_FIELDS}


class HouseholdStore:
    """Household records, one collection per commune under ``<data>/households/``."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "households"
        self._derived: dict[tuple[int, str], tuple[str, Any]] = {}

    def shard(self, commune_code: int) -> Collection:
        """The collection holding one commune's households."""
        return Collection(self.root / f"{int(commune_code)}.json", "households")

    def get(self, record_id: str, communes: Iterable[int]) -> dict | None:
        """The record with this id among ``communes``, or None."""
        for code in communes:
            doc = self.shard(code).get(record_id)
            if doc is not None:
                return doc
        return None

    def create(self, record: dict, stamp: Callable[[], str]) -> tuple[dict, bool]:
        """Store a new record; the same id and content again returns it with created=False.

        The check and the insert happen under the commune's lock, so racing retries of one
        id from several workers store one record.
        """
        with self.shard(record["commune_code"]).write() as table:
            existing = table.get(doc_id=record["id"])
            if existing is not None:
                if content_of(dict(existing)) != content_of(record):
                    raise Conflict(dict(existing))
                return dict(existing), False
            now = stamp()
            stored = {**record, "created_at": now, "updated_at": now}
            table.insert(Document(stored, doc_id=record["id"]))
        return stored, True

    def replace(self, current: dict, record: dict, stamp: Callable[[], str]) -> dict:
        """Replace ``current`` by ``record`` (same id), moving it if the commune changed."""
        stored = {**record, "created_at": current["created_at"], "updated_at": stamp()}
        old, new = current["commune_code"], record["commune_code"]
        with self.shard(new).write() as table:
            table.upsert(Document(stored, doc_id=record["id"]))
        if old != new:
            # Written to the new commune first: a crash in between leaves a copy, never a loss.
            with self.shard(old).write() as table:
                table.remove(doc_ids=[record["id"]])
        return stored

    def remove(self, record: dict) -> bool:
        """Delete one record (its earlier versions are kept by the caller); False if absent."""
        with self.shard(record["commune_code"]).write() as table:
            if not table.contains(doc_id=record["id"]):
                return False
            table.remove(doc_ids=[record["id"]])
        return True

    def records(self, communes: Iterable[int]) -> Iterator[dict]:
        """Every record of ``communes``, commune by commune, in insertion order (shared dicts)."""
        for code in communes:
            yield from self.shard(code).documents().values()

    def count(self, communes: Iterable[int]) -> int:
        """How many records ``communes`` hold."""
        return sum(len(self.shard(code).documents()) for code in communes)

    def derived(self, commune_code: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """``compute`` over one commune's records, recomputed only when the file changed."""
        shard = self.shard(commune_code)
        rev = shard.revision()
        rev = "absent" if rev is None else rev  # a commune with no file yet is cached too
        cached = self._derived.get((commune_code, name))
        if cached is not None and rev and cached[0] == rev:
            return cached[1]
        value = compute(list(shard.documents().values()))
        if rev:
            self._derived[(commune_code, name)] = (rev, value)
        return value

    def bulk_insert(self, commune_code: int, records: list[dict]) -> int:
        """Insert many new records of one commune in one write (demo data, benchmarks, imports).

        Records whose id is already stored are left as they are; returns how many were added.
        """
        with self.shard(commune_code).write() as table:
            docs = {doc.doc_id for doc in table.all()}
            fresh = [Document(r, doc_id=r["id"]) for r in records if r["id"] not in docs]
            if fresh:
                table.insert_multiple(fresh)
        return len(fresh)
