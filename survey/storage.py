"""Storage: TinyDB files written atomically, locked across processes, one file per commune.

TinyDB alone is neither crash-safe (``JSONStorage`` rewrites the file in place) nor safe
for several processes, and every insert rewrites the whole database. So:

- ``AtomicJSONStorage`` writes a temp file, fsyncs it, renames it over the old one and
  fsyncs the directory: a crash leaves the old file or the new one, never a torn one.
  Each write stamps a random revision at the head of the file, so readers can tell in one
  small read whether their decoded copy is still current.
- ``Collection`` wraps one such file with a cross-process lock around every
  read-modify-write, so gunicorn workers never lose each other's updates.
- ``LoggedCollection`` appends each change to a log beside the file (one fsync'd line)
  and folds the log into a new file once it outgrows a quarter of it, so a submission
  costs the same however big its commune is.
- ``HouseholdStore`` keeps one such collection per commune, so a submission costs the same
  whatever the province's total.

Views and exports never touch files: they go through these classes.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import hashlib
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import orjson
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

__all__ = ["AtomicJSONStorage", "Collection", "LoggedCollection", "HouseholdStore", "KeptSummary",
           "StorageUnavailable", "Conflict"]

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

    # Decoded JSON takes about 3x its size on disk: 32 MB of files is ~100 MB of a worker.
    def __init__(self, budget_bytes: int = 32 * 1024 * 1024):
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


def _flock(path: Path, timeout: float) -> int:
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
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = _flock(Path(str(self.path) + ".lock"), self.lock_timeout)
        except TimeoutError as exc:
            raise StorageUnavailable(f"{self.path.name} is locked by another writer") from exc
        except OSError as exc:
            raise StorageUnavailable(_describe(exc, self.path)) from exc
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

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


LOG_SUFFIX = ".log"
IDS_SUFFIX = ".ids"
FOLD_MIN_BYTES = 256 * 1024


def _log_base(head: bytes) -> str | None:
    """The snapshot revision a log's first line names; None if that line is not a header."""
    try:
        header = orjson.loads(head)
    except orjson.JSONDecodeError:
        return None
    return header.get("base") if isinstance(header, dict) else None


def _log_changes(raw: bytes, rev: str) -> list[list]:
    """The whole lines of a log that extends snapshot ``rev``; none if it extends another one."""
    head, newline, body = raw.partition(b"\n")
    if not newline or _log_base(head) != rev:
        return []
    body = body[:body.rfind(b"\n") + 1]  # a torn last line was never acknowledged
    return [orjson.loads(line) for line in body.splitlines() if line]


def _apply(table: dict, changes: list[list]) -> dict:
    """``table`` with logged changes applied in order: ["put", key, doc] or ["del", key]."""
    for change in changes:
        if change[0] == "put":
            table[change[1]] = change[2]
        else:
            table.pop(change[1], None)
    return table


def _pread_all(fd: int, start: int, end: int) -> bytes:
    chunks = []
    while start < end:
        chunk = os.pread(fd, end - start, start)
        if not chunk:
            break
        chunks.append(chunk)
        start += len(chunk)
    return b"".join(chunks)


def _id_hash(key: str) -> int:
    """A 64-bit hash of a document id, the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True)


def _id_hashes(keys: Iterable[str]) -> np.ndarray:
    return np.sort(np.fromiter((_id_hash(k) for k in keys), dtype=np.int64))


_IDS_MAGIC = b"IDS1"


def write_id_file(path: Path, rev: str, hashes: np.ndarray) -> None:
    """Keep a snapshot's sorted id hashes beside it, so no worker decodes it to check an id."""
    body = hashes.astype("<i8").tobytes()
    digest = hashlib.blake2b(body, digest_size=16).digest()
    write_atomically(path, _IDS_MAGIC + rev.encode().ljust(16) + digest + body)


def read_id_file(path: Path, rev: str) -> np.ndarray | None:
    """The id hashes kept beside snapshot ``rev``; None if absent, stale or damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    head, digest, body = raw[:20], raw[20:36], raw[36:]
    if head != _IDS_MAGIC + rev.encode().ljust(16) or len(body) % 8:
        return None
    if hashlib.blake2b(body, digest_size=16).digest() != digest:
        return None
    return np.frombuffer(body, dtype="<i8")


class _IdIndex:
    """Hashes of the ids a shard holds, as of a snapshot and a log offset, kept per process.

    A sorted array for the snapshot (8 bytes an id, read from the file kept beside it) and
    a set for what the log added since: a miss proves the id is new; a hit is checked
    against the records themselves.
    """

    def __init__(self, rev: str, inode: int, base: np.ndarray):
        self.rev, self.inode, self.offset = rev, inode, 0
        self.base = base
        self.recent: set[int] = set()

    def __contains__(self, key: str) -> bool:
        h = _id_hash(key)
        if h in self.recent:
            return True
        i = int(np.searchsorted(self.base, h))
        return i < len(self.base) and int(self.base[i]) == h

    def add(self, changes: list[list]) -> None:
        for change in changes:
            if change[0] == "put":
                self.recent.add(_id_hash(change[1]))


class _LogAppender:
    """The open log of a locked shard: look up ids, append fsync'd changes."""

    def __init__(self, shard: "LoggedCollection", fd: int, rev: str):
        self.shard, self.fd, self.rev = shard, fd, rev
        self.size = self._prepare()
        self.index = self._sync_index()

    def _prepare(self) -> int:
        """Start a fresh log for this snapshot, or cut a torn last line; returns the size."""
        size = os.fstat(self.fd).st_size
        head = os.pread(self.fd, 64, 0).partition(b"\n")
        if size and head[1] and _log_base(head[0]) == self.rev:
            if os.pread(self.fd, 1, size - 1) == b"\n":
                return size
            raw = _pread_all(self.fd, 0, size)
            size = raw.rfind(b"\n") + 1
            os.ftruncate(self.fd, size)
            return size
        header = orjson.dumps({"base": self.rev}) + b"\n"
        os.ftruncate(self.fd, 0)
        os.write(self.fd, header)
        os.fsync(self.fd)
        _fsync_dir(self.shard.log_path.parent)
        return len(header)

    def _sync_index(self) -> _IdIndex:
        """This process's id index, brought up to date with what other workers appended."""
        inode = os.fstat(self.fd).st_ino
        index = self.shard.indexes.get(self.shard.path)
        if index is None or index.rev != self.rev or index.inode != inode or index.offset > self.size:
            base = read_id_file(self.shard.ids_path, self.rev)
            if base is None:
                base = self.shard.write_ids()
            index = _IdIndex(self.rev, inode, base)
            self.shard.indexes[self.shard.path] = index
        if index.offset < self.size:
            tail = _pread_all(self.fd, index.offset, self.size)
            if index.offset == 0:
                tail = tail.partition(b"\n")[2]
            index.add([orjson.loads(line) for line in tail.splitlines() if line])
            index.offset = self.size
        return index

    def get(self, key: str) -> dict | None:
        """The document stored under ``key`` (a copy), or None."""
        if key not in self.index:
            return None
        doc = self.shard.documents().get(key)
        return dict(doc) if doc is not None else None

    def _append(self, change: list) -> None:
        line = orjson.dumps(change) + b"\n"
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self.fd, view):]
            os.fdatasync(self.fd)  # data and the new length: all a reader needs
        except OSError as exc:
            os.ftruncate(self.fd, self.size)
            raise StorageUnavailable(_describe(exc, self.shard.path)) from exc
        self.size += len(line)
        self.index.add([change])
        self.index.offset = self.size

    def put(self, key: str, doc: dict) -> None:
        """Insert or replace one document; on disk (fsync'd) when this returns."""
        self._append(["put", key, doc])

    def delete(self, key: str) -> None:
        """Remove one document; on disk (fsync'd) when this returns."""
        self._append(["del", key])


class LoggedCollection(Collection):
    """A collection whose single-document changes go to an append-only log beside its file.

    The log's first line names the snapshot revision it extends; folding writes a new
    snapshot atomically and then drops the log, so a crash in between leaves a log that
    names an older revision and is ignored. Readers read the log before the snapshot, so
    they never miss changes that a fold moved from one to the other.
    """

    def __init__(self, path: Path, table: str, indexes: dict | None = None, lock_timeout: float = 10.0,
                 on_snapshot: Callable[["LoggedCollection", str, dict], None] | None = None):
        super().__init__(path, table, lock_timeout)
        self.on_snapshot = on_snapshot
        self.log_path = path.with_suffix(LOG_SUFFIX)
        self.ids_path = path.with_suffix(IDS_SUFFIX)
        self.indexes: dict[Path, _IdIndex] = {} if indexes is None else indexes

    def _log_signature(self) -> str:
        try:
            st = os.stat(self.log_path)
        except FileNotFoundError:
            return ""
        return f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns}"

    def revision(self) -> str | None:
        """Changes whenever the file is rewritten or the log grows; None while neither exists."""
        log = self._log_signature()
        rev = read_revision(self.path)
        return None if rev is None else f"{rev}+{log}"

    def documents(self, cache: bool = True) -> dict[str, dict]:
        """All documents by id, log applied, shared with the cache: callers must not change them.

        ``cache=False`` is for reading every commune once (exports): it neither fills the
        per-process cache nor pushes the hot files (accounts, recent communes) out of it.
        """
        log = self._log_signature()
        key, rev = str(self.log_path), read_revision(self.path) or ""
        hit = CACHE.get(key if log else str(self.path), f"{rev}+{log}" if log else rev) if rev else None
        if hit is not None:
            return hit if log else hit.get(self.table_name, {})
        try:
            raw = self.log_path.read_bytes() if log else b""
        except FileNotFoundError:
            raw = b""
        data = AtomicJSONStorage(self.path, cached=cache).read() or {}
        table = data.get(self.table_name, {})
        changes = _log_changes(raw, data.get(REV_KEY, "")) if raw else []
        if not changes:
            return table
        merged = _apply(dict(table), changes)
        if cache and data.get(REV_KEY) == rev:
            CACHE.put(key, f"{rev}+{log}", merged, len(raw) * 2 + len(merged) * 100)
        return merged

    def _fold(self) -> None:
        """Under the lock: write the snapshot with the log applied, then drop the log."""
        try:
            raw = self.log_path.read_bytes()
        except FileNotFoundError:
            return
        data = AtomicJSONStorage(self.path).read() or {}
        changes = _log_changes(raw, data.get(REV_KEY, "")) if raw else []
        if changes:
            fresh = {k: v for k, v in data.items() if k != REV_KEY}
            fresh[self.table_name] = _apply(dict(data.get(self.table_name, {})), changes)
            AtomicJSONStorage(self.path).write(fresh)
            self._snapshot_written(fresh[self.table_name])
        self.log_path.unlink(missing_ok=True)
        CACHE.drop(str(self.log_path))

    def _snapshot_written(self, table: dict | None = None) -> None:
        """Under the lock, after a new snapshot: refresh the files kept beside it."""
        self.write_ids(table)
        if self.on_snapshot is not None:
            data = AtomicJSONStorage(self.path).read() or {}
            table = data.get(self.table_name, {}) if table is None else table
            self.on_snapshot(self, data.get(REV_KEY, ""), table)

    def pending(self) -> tuple[str, list[list]]:
        """(the snapshot's revision, the logged changes on top of it); the log is read first."""
        try:
            raw = self.log_path.read_bytes()
        except FileNotFoundError:
            raw = b""
        rev = read_revision(self.path) or ""
        return rev, (_log_changes(raw, rev) if raw and rev else [])

    def write_ids(self, table: dict | None = None) -> np.ndarray:
        """Under the lock: write the id hashes of the current snapshot beside it."""
        data = AtomicJSONStorage(self.path).read() or {}
        hashes = _id_hashes(data.get(self.table_name, {}) if table is None else table)
        write_id_file(self.ids_path, data.get(REV_KEY, ""), hashes)
        return hashes

    def _snapshot_revision(self) -> str:
        """The snapshot's revision, writing an empty stamped snapshot first if there is none."""
        rev = read_revision(self.path)
        if not rev:
            data = AtomicJSONStorage(self.path, cached=False).read() or {self.table_name: {}}
            AtomicJSONStorage(self.path).write(data)
            rev = read_revision(self.path) or ""
        return rev

    @contextmanager
    def appending(self) -> Iterator[_LogAppender]:
        """The shard's log under the cross-process lock; folded once it outgrows the snapshot."""
        with self.locked():
            rev = self._snapshot_revision()
            try:
                fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            except OSError as exc:
                raise StorageUnavailable(_describe(exc, self.path)) from exc
            try:
                log = _LogAppender(self, fd, rev)
                yield log
            finally:
                os.close(fd)
            if log.size > max(FOLD_MIN_BYTES, self.path.stat().st_size // 4):
                self._fold()

    @contextmanager
    def write(self) -> Iterator[Table]:
        """A TinyDB table to change under the lock, the log folded in first."""
        with self.locked():
            self._fold()
            db = _KeyedTinyDB(self.path, storage=AtomicJSONStorage, cached=False)
            yield db.table(self.table_name, cache_size=0)
            self._snapshot_written()

    def fold(self) -> None:
        """Fold the log into the snapshot now (before copying the file, for instance)."""
        with self.locked():
            self._fold()

    def fold_locked(self) -> None:
        """Fold the log into the snapshot, for a caller that already holds this file's lock."""
        self._fold()

    def discard_log(self) -> None:
        """Under the lock, before the file is replaced wholesale (a restore): drop the log and
        the files kept beside the snapshot, which describe the old one."""
        for path in (self.log_path, self.ids_path):
            path.unlink(missing_ok=True)
        CACHE.drop(str(self.log_path))


def _sorted_has(hashes: np.ndarray, h: int) -> bool:
    i = int(np.searchsorted(hashes, h))
    return i < len(hashes) and int(hashes[i]) == h


@dataclass(frozen=True)
class KeptSummary:
    """A per-commune summary the store keeps beside each shard: tally records, add two
    tallies (in record order), and turn a tally into the value ``derived`` returns.
    Tallies are stored as JSON, so they must be made of dicts, lists, strings and numbers."""

    tally: Callable[[list[dict]], Any]
    merge: Callable[[Any, Any], Any]
    finish: Callable[[Any], Any]
    version: str = ""  # change it when the tally's shape changes: older files are then ignored


def content_of(record: dict) -> dict:
    """A record without the fields the server sets, for comparing submissions."""
    return {k: v for k, v in record.items() if k not in SERVER_FIELDS}


class HouseholdStore:
    """Household records, one collection per commune under ``<data>/households/``."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "households"
        self._derived: dict[tuple[int, str], tuple[str, Any]] = {}
        self._indexes: dict[Path, _IdIndex] = {}
        self._kept: dict[str, KeptSummary] = {}
        self._bases: dict[tuple[int, str], tuple[str, Any]] = {}

    def shard(self, commune_code: int) -> LoggedCollection:
        """The collection holding one commune's households."""
        return LoggedCollection(self.root / f"{int(commune_code)}.json", "households", self._indexes,
                                on_snapshot=self._write_summaries)

    def keep_summary(self, name: str, summary: KeptSummary) -> None:
        """Keep ``summary`` of each commune's folded records in a file beside it.

        ``derived(code, name, ...)`` then starts from that file and tallies only the records
        logged since, so neither a cold start nor a write goes over a whole commune again.
        """
        self._kept[name] = summary

    def _tally_path(self, commune_code: int, name: str) -> Path:
        return self.root / f"{int(commune_code)}.{name}.tally"

    def _write_summaries(self, shard: LoggedCollection, rev: str, table: dict) -> None:
        """Under the shard's lock, after its snapshot changed: the kept tallies of it."""
        code = int(shard.path.stem)
        for name, kept in self._kept.items():
            tally = kept.tally(list(table.values()))
            write_atomically(self._tally_path(code, name),
                             orjson.dumps({"rev": rev, "version": kept.version, "tally": tally}))
            self._bases[(code, name)] = (rev, tally)

    def _base_tally(self, commune_code: int, name: str, rev: str) -> Any | None:
        """The kept tally of snapshot ``rev``, from memory or from its file; None if stale."""
        held = self._bases.get((commune_code, name))
        if held is not None and held[0] == rev:
            return held[1]
        try:
            kept = orjson.loads(self._tally_path(commune_code, name).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        if kept.get("rev") != rev or kept.get("version") != self._kept[name].version:
            return None
        self._bases[(commune_code, name)] = (rev, kept["tally"])
        return kept["tally"]

    def _from_kept(self, shard: LoggedCollection, commune_code: int, name: str) -> Any | None:
        """The kept tally plus the logged records; None when the log changes earlier records."""
        kept = self._kept[name]
        rev, changes = shard.pending()
        base = self._base_tally(commune_code, name, rev) if rev else None
        if base is None:
            return None
        if changes:
            keys = [c[1] for c in changes]
            if any(c[0] != "put" for c in changes) or len(set(keys)) != len(keys):
                return None
            ids = read_id_file(shard.ids_path, rev)
            if ids is None or any(_sorted_has(ids, _id_hash(k)) for k in keys):
                return None
            base = kept.merge(base, kept.tally([c[2] for c in changes]))
        return kept.finish(base)

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
        with self.shard(record["commune_code"]).appending() as log:
            existing = log.get(record["id"])
            if existing is not None:
                if content_of(existing) != content_of(record):
                    raise Conflict(existing)
                return existing, False
            now = stamp()
            stored = {**record, "created_at": now, "updated_at": now}
            log.put(record["id"], stored)
        return stored, True

    def replace(self, current: dict, record: dict, stamp: Callable[[], str]) -> dict:
        """Replace ``current`` by ``record`` (same id), moving it if the commune changed."""
        stored = {**record, "created_at": current["created_at"], "updated_at": stamp()}
        old, new = current["commune_code"], record["commune_code"]
        with self.shard(new).appending() as log:
            log.put(record["id"], stored)
        if old != new:
            # Written to the new commune first: a crash in between leaves a copy, never a loss.
            with self.shard(old).appending() as log:
                log.delete(record["id"])
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
            yield from self.shard(code).documents(cache=False).values()

    def count(self, communes: Iterable[int]) -> int:
        """How many records ``communes`` hold."""
        return sum(len(self.shard(code).documents()) for code in communes)

    def derived(self, commune_code: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """``compute`` over one commune's records, recomputed only when the file changed."""
        shard = self.shard(commune_code)
        rev = shard.revision() or "absent"  # no file yet is a state worth caching too
        cached = self._derived.get((commune_code, name))
        if cached is not None and cached[0] == rev:
            return cached[1]
        value = self._from_kept(shard, commune_code, name) if name in self._kept else None
        if value is None:
            value = compute(list(shard.documents().values()))
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
