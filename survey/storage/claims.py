"""Which commune holds each household id, so that an id is unique in the whole province.

Households live in one file per commune, so a commune's lock alone cannot stop officer B
from reusing, in commune B, the id of a household of commune A. Every id is therefore
claimed first in one of 16 append-only bucket logs (by a hash of the id), under that
bucket's lock: ``[id, commune]`` per line, written before the record is.
A claim without its record (a crash in between) is harmless: a retry in the same commune
goes on; the id stays reserved elsewhere.

The buckets are derived data: when the ``complete.<boot id>`` marker is missing (a new data
directory, an older one, after a restore, or after the machine restarted) they are rebuilt
from the communes' files, under every bucket lock so that no claim is made meanwhile. That
is why a claim needs no fdatasync of its own: a killed process leaves its written lines in
the kernel's page cache, and only a restart of the kernel (a power cut) can lose them,
which changes the boot id, so the claims are rebuilt from the records, whose own lines
were flushed before they were acknowledged. Where the boot id cannot be read, every claim
is flushed before its record is written, as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import orjson

from .errors import StorageUnavailable, describe
from .files import flock, fsync_dir, pread_all, write_atomically
from .idindex import id_hash
from .owners import SUFFIX as SNAPSHOT_SUFFIX
from .owners import Owners, drop_snapshots, read_snapshot, snapshot_covers, snapshot_due, write_snapshot

__all__ = ["IdClaims", "ClaimBucket", "Owners", "BUCKETS"]

BUCKETS = 16
_COMPLETE = "complete"
PARSE_BYTES = 256 * 1024  # of whole claim lines decoded at once (about 4,000 claims)


def _boot_id() -> str | None:
    """This kernel's boot id (Linux): it changes on every restart, and so on every power cut."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


BOOT_ID = _boot_id()


def _claims_in(lines: bytes) -> Iterator[list]:
    """The ``[id, commune]`` claims of whole lines, decoded a piece at a time: a log read
    from its start (no snapshot, or one voided by a copied or restored directory) decoded
    in one parse held every claim of the bucket as Python objects at once, 50 MB for the
    2.9 MB of a bucket at 1,000,000 households, in whichever request met it first."""
    start = 0
    while start < len(lines):
        end = lines.rfind(b"\n", start, start + PARSE_BYTES) + 1 or lines.index(b"\n", start) + 1
        yield from orjson.loads(b"[" + lines[start:end - 1].replace(b"\n", b",") + b"]")
        start = end


class ClaimBucket:
    """One locked bucket: who owns an id, and claiming ids for a commune."""

    def __init__(self, fd: int, owners: Owners, path: Path, end: int, flush: bool = True):
        self.fd, self.owners, self.path, self.flush = fd, owners, path, flush
        self.end = end  # the log's length: under the lock, only this bucket appends to it
        self.dirty = False

    def owner(self, key: str) -> int | None:
        """The commune that holds ``key``, or None if nobody claimed it."""
        return self.owners.get(key)

    def claim(self, key: str, commune: int, sync: bool = True) -> None:
        """Record that ``commune`` holds ``key``; durable when this returns (unless ``sync=False``)."""
        if self.owners.get(key) == commune:
            return
        line = orjson.dumps([key, int(commune)]) + b"\n"
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self.fd, view):]
        except OSError as exc:
            os.ftruncate(self.fd, self.end)  # no half line for the next reader
            raise StorageUnavailable(describe(exc, self.path)) from exc
        self.end += len(line)
        self.owners.set(key, commune)
        self.dirty = True
        if sync:
            self.sync()

    def sync(self) -> None:
        """Make every claim written so far durable (by the rebuild after a restart, or a flush)."""
        if self.dirty and self.flush:
            try:
                os.fdatasync(self.fd)
            except OSError as exc:
                raise StorageUnavailable(describe(exc, self.path)) from exc
            self.dirty = False


class IdClaims:
    """The province's id claims under ``root``, rebuilt from ``all_ids`` when incomplete."""

    def __init__(self, root: Path, all_ids: Callable[[], Iterable[tuple[str, int]]], lock_timeout: float = 10.0):
        self.root = root
        self.all_ids = all_ids
        self.lock_timeout = lock_timeout
        self._seen: dict[int, tuple[int, int, Owners]] = {}  # bucket -> (inode, offset, owners)
        self._snapped: dict[int, int] = {}  # bucket -> log length its snapshot covers, as last seen
        # paths made once: pathlib costs microseconds a join, and a claim needs three
        self._root = str(root)
        self._logs = [root / f"{b:02x}.log" for b in range(BUCKETS)]
        self._locks = {name: str(root / f"{name}.lock") for name in [f"{b:02x}" for b in range(BUCKETS)] + ["build"]}

    def bucket_of(self, key: str) -> int:
        """The bucket an id belongs to."""
        return id_hash(key) % BUCKETS

    def _path(self, bucket: int) -> Path:
        return self._logs[bucket]

    @contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        try:
            try:
                fd = flock(self._locks[name], self.lock_timeout)
            except FileNotFoundError:  # the first claim of a data directory
                self.root.mkdir(parents=True, exist_ok=True)
                fd = flock(self._locks[name], self.lock_timeout)
        except TimeoutError as exc:
            raise StorageUnavailable("household ids are locked by another writer") from exc
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.root)) from exc
        try:
            yield
        finally:
            os.close(fd)

    @contextmanager
    def claiming(self, keys: Iterable[str]) -> Iterator[dict[int, ClaimBucket]]:
        """The buckets of ``keys``, locked in order, up to date with every process's claims."""
        self.ensure_complete()
        wanted = sorted({self.bucket_of(k) for k in keys})
        with ExitStack() as stack:
            opened: dict[int, ClaimBucket] = {}
            for b in wanted:
                stack.enter_context(self._lock(f"{b:02x}"))
                fd = self._open(b)
                stack.callback(os.close, fd)
                owners = self._owners(b, fd)
                opened[b] = ClaimBucket(fd, owners, self._path(b), self._seen[b][1], flush=BOOT_ID is None)
            yield opened
            for b, bucket in opened.items():
                bucket.sync()
                self._claimed(b, bucket)

    def _claimed(self, bucket: int, claims: ClaimBucket) -> None:
        """Under the lock: this process's own claims are known, so they are never parsed again."""
        inode, _, owners = self._seen[bucket]
        self._seen[bucket] = (inode, claims.end, owners)
        self._maybe_snapshot(bucket, inode, claims.end, owners)

    def _open(self, bucket: int) -> int:
        try:
            return os.open(self._path(bucket), os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self._path(bucket))) from exc

    def owner(self, key: str) -> int | None:
        """The commune holding ``key``, read without a lock (a torn last line is not read)."""
        self.ensure_complete()
        b = self.bucket_of(key)
        try:
            fd = os.open(self._path(b), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            return self._owners(b, fd, repair=False).get(key)
        finally:
            os.close(fd)

    def _owners(self, bucket: int, fd: int, repair: bool = True) -> Owners:
        """This process's map of a bucket, brought up to date; under the lock, a torn line is cut."""
        st = os.fstat(fd)
        inode, offset, owners = self._seen.get(bucket) or (0, 0, None)
        if owners is None or inode != st.st_ino or offset > st.st_size:
            offset, owners = read_snapshot(self._snapshot(bucket), st.st_ino, st.st_size) or (0, Owners())
            self._snapped[bucket] = offset
        if offset < st.st_size:
            tail = pread_all(fd, offset, st.st_size)
            whole = tail.rfind(b"\n") + 1
            if repair and whole < len(tail):
                os.ftruncate(fd, offset + whole)
            for key, commune in _claims_in(tail[:whole]):
                owners.set(key, commune)
            offset += whole
        self._seen[bucket] = (st.st_ino, offset, owners)
        if repair:
            self._maybe_snapshot(bucket, st.st_ino, offset, owners)
        return owners

    def _maybe_snapshot(self, bucket: int, inode: int, offset: int, owners: Owners) -> None:
        """Under the lock: keep a snapshot once enough lies beyond the last one (``snapshot_due``),
        unless another process has written a newer one meanwhile."""
        if not snapshot_due(offset, self._snapped.get(bucket, 0)):
            return
        covered = snapshot_covers(self._snapshot(bucket), inode)
        if snapshot_due(offset, covered) and self._keep_snapshot(bucket, inode, offset, owners):
            covered = offset
        self._snapped[bucket] = covered

    def _keep_snapshot(self, bucket: int, inode: int, offset: int, owners: Owners) -> bool:
        """Write a bucket's snapshot; False if it could not be (a full disk, say): it is derived
        data, so the claims stand and only a later parse is lost."""
        try:
            write_snapshot(self._snapshot(bucket), inode, offset, owners)
        except OSError:
            return False
        return True

    def _snapshot(self, bucket: int) -> Path:
        return self.root / f"{bucket:02x}{SNAPSHOT_SUFFIX}"

    @property
    def _marker(self) -> str:
        """Present once the buckets hold every stored id, since this kernel started."""
        return f"{self._root}/{_COMPLETE}.{BOOT_ID or 'flushed'}"

    def ensure_complete(self) -> None:
        """Rebuild the buckets from the communes' files if they are not known to be complete."""
        if os.path.exists(self._marker):
            return
        with self._lock("build"), ExitStack() as stack:
            for b in range(BUCKETS):
                stack.enter_context(self._lock(f"{b:02x}"))
            if os.path.exists(self._marker):
                return
            self._rebuild()

    def _rebuild(self) -> None:
        """Under every lock: write each bucket afresh from the stored records."""
        claims: list[list[tuple[str, int]]] = [[] for _ in range(BUCKETS)]
        for key, commune in self.all_ids():
            claims[self.bucket_of(key)].append((key, int(commune)))
        try:
            drop_snapshots(self.root)
            for b in range(BUCKETS):
                raw = b"".join(orjson.dumps(claim) + b"\n" for claim in claims[b])
                write_atomically(self._path(b), raw)
                # so that no worker parses the rebuilt bucket line by line
                self._keep_snapshot(b, os.stat(self._path(b)).st_ino, len(raw), Owners.from_claims(claims[b]))
            for stale in self.root.glob(f"{_COMPLETE}*"):
                stale.unlink()
            write_atomically(Path(self._marker), b"")
        except OSError as exc:
            raise StorageUnavailable(describe(exc, self.root)) from exc
        self._seen.clear()

    def invalidate(self) -> None:
        """Mark the buckets stale (the communes' files were replaced): the next claim rebuilds."""
        for marker in self.root.glob(f"{_COMPLETE}*"):
            marker.unlink(missing_ok=True)
        if self.root.exists():
            fsync_dir(self.root)
        self._seen.clear()
