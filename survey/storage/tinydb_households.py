"""Households in TinyDB files: one logged collection per commune, ids claimed province-wide.

A submission claims its id (``claims``), then appends one line to its commune's change log
(``logged``), flushed with every other line waiting (``groupsync``), so its cost grows
neither with its commune nor with the province.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tinydb.table import Document

from . import groupsync
from .claims import IdClaims
from .errors import NotStored
from .idindex import id_hash, read_id_file, sorted_has
from .interface import HouseholdBackend
from .logged import LoggedCollection, PendingFlush, run_flushes
from .streamed import streamed_items, streamed_records
from .tallies import KeptSummary, KeptTallies
from .watch import ChangeWatch

__all__ = ["TinyDBHouseholds"]

_COMMUNE_FILE = re.compile(r"households/([0-9]{1,9})\.json")
_EMPTY_SNAPSHOT_BYTES = 64  # {"_rev":"<16 hex>","households":{}} and no more


class TinyDBHouseholds(HouseholdBackend):
    """Household records under ``<data>/households/``: ``<commune>.json`` plus its log."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "households"
        self._derived: dict[tuple[int, str], tuple[str, Any]] = {}
        self._indexes: dict = {}
        self._stat_paths: dict[int, tuple[str, str]] = {}
        self._watch = ChangeWatch(self.root)
        self._shards: dict[int, LoggedCollection] = {}
        self._tallies = KeptTallies(self.root)
        self.claims = IdClaims(Path(data_dir) / "claims", self._all_ids)

    def shard(self, commune_code: int) -> LoggedCollection:
        """The collection holding one commune's households (kept: it holds only paths)."""
        code = int(commune_code)
        shard = self._shards.get(code)
        if shard is None:
            shard = LoggedCollection(self.root / f"{code}.json", "households", self._indexes,
                                     on_snapshot=self._tallies.on_snapshot, on_extend=self._tallies.extending)
            self._shards[code] = shard
        return shard

    def _communes_on_disk(self) -> Iterator[int]:
        for path in sorted(self.root.glob("*.json")):
            if path.stem.isdigit():
                yield int(path.stem)

    def _all_ids(self) -> Iterator[tuple[str, int]]:
        for code in self._communes_on_disk():
            for key in self.shard(code).documents(cache=False):
                yield key, code

    def create_once(self, record: dict) -> dict | None:
        """Claim the id, append the record under its commune's lock, then, with every lock
        released, wait for the flush that covers what is acknowledged."""
        pending: list[PendingFlush] = []
        try:
            existing = self._create_locked(record, pending)
        except BaseException:
            for flush in pending:
                flush.drop()
            raise
        run_flushes(pending)
        return existing

    def _create_locked(self, record: dict, pending: list[PendingFlush]) -> dict | None:
        key, commune = record["id"], int(record["commune_code"])
        with self.claims.claiming([key]) as buckets:
            bucket = buckets[self.claims.bucket_of(key)]
            owner = bucket.owner(key)
            if owner is not None and owner != commune:
                holder = self.shard(owner)
                existing = holder.get(key)
                if existing is not None:
                    flush = holder.flush_all()  # its writer may still be waiting for the flush
                    pending.extend([flush] if flush else [])
                    return existing
            with self.shard(commune).appending(pending) as log:
                existing = log.get(key)
                if existing is not None:
                    return existing
                bucket.claim(key, commune)
                log.put(key, record)
        return None

    def replace(self, record: dict, previous_commune: int) -> None:
        """Written to the new commune first: a crash in between leaves a copy, never a loss."""
        key, commune = record["id"], int(record["commune_code"])
        if commune == int(previous_commune):
            with self.shard(commune).appending() as log:
                if key not in log.index:
                    raise NotStored(f"household {key} is not stored in commune {commune}")
                log.put(key, record)
            return
        pending: list[PendingFlush] = []
        try:
            with self.claims.claiming([key]) as buckets:
                if self.shard(previous_commune).get(key) is None:
                    raise NotStored(f"household {key} is not stored in commune {previous_commune}")
                with self.shard(commune).appending(pending) as log:
                    buckets[self.claims.bucket_of(key)].claim(key, commune)
                    log.put(key, record)
                run_flushes(pending)  # the copy is durable before the original goes
                with self.shard(previous_commune).appending(pending) as log:
                    log.delete(key)
        except BaseException:
            for flush in pending:
                flush.drop()
            raise
        run_flushes(pending)

    def remove(self, record: dict) -> bool:
        """Delete one record (its claim is left: harmless, a later create rewrites it)."""
        with self.shard(record["commune_code"]).write() as table:
            if not table.contains(doc_id=record["id"]):
                return False
            table.remove(doc_ids=[record["id"]])
        return True

    def get(self, record_id: str) -> dict | None:
        """Found through the id's claim: one commune read, not one per commune."""
        owner = self.claims.owner(record_id)
        return None if owner is None else self.shard(owner).get(record_id)

    def get_in(self, commune_code: int, record_id: str) -> dict | None:
        """Read from the commune's file alone: a page of records found through a commune's
        search index needs neither the province's id claims nor their memory (16 MB at 1,000,000)."""
        return self.shard(commune_code).get(record_id)

    def scan(self, commune_code: int, cache: bool = True) -> Iterable[dict]:
        """The commune's records (shared dicts: do not change them)."""
        return self.shard(commune_code).documents(cache=cache).values()

    def records(self, communes: Iterable[int]) -> Iterator[dict]:
        """Every record of ``communes`` (exports), each commune's file decoded a piece at a
        time (``streamed``): a worker holds a megabyte of records, not the largest commune."""
        for code in communes:
            yield from streamed_records(self.shard(code))

    def count(self, communes: Iterable[int]) -> int:
        """How many records ``communes`` hold."""
        return sum(len(self.shard(code).documents()) for code in communes)

    def change_token(self, communes: Iterable[int]) -> tuple:
        """The kernel's count of changes to each commune's files (``watch``), or else the
        inode, size and modification time of each commune's snapshot and log: two stats a
        commune, no file opened. A write appends to the log (it grows) or renames a new
        snapshot into place (a new inode), so any write shows here before it is acknowledged."""
        communes = list(communes)
        watched = self._watch.token(communes)
        if watched is not None:
            return watched
        out: list = []
        for code in communes:
            paths = self._stat_paths.get(code)
            if paths is None:
                shard = self.shard(code)
                paths = self._stat_paths[code] = (str(shard.path), str(shard.log_path))
            for path in paths:
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    out.append(None)
                    continue
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def keep_summary(self, name: str, summary: KeptSummary) -> None:
        """Keep ``summary`` of each commune's compacted records in a file beside it."""
        self._tallies.kinds[name] = summary

    def derived(self, commune_code: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """``compute`` over one commune's records, recomputed only when the file changed."""
        shard = self.shard(commune_code)
        rev = shard.revision() or "absent"  # no file yet is a state worth caching too
        cached = self._derived.get((commune_code, name))
        if cached is not None and cached[0] == rev:
            return cached[1]
        value = self._tallies.current(shard, name) if name in self._tallies.kinds else None
        if value is None:
            value = compute(list(shard.documents().values()))
        self._derived[(commune_code, name)] = (rev, value)
        return value

    def bulk_insert(self, commune_code: int, records: list[dict]) -> int:
        """Claims first (one fdatasync per bucket), then the records appended to the commune's
        log as single submissions are, and one flush for them all: nothing decodes the commune
        but a compaction the log's growth calls for, once. A killed writer leaves a prefix of
        the batch (a second import counts it unchanged); a failure here leaves none of it."""
        commune, pending = int(commune_code), []
        shard = self.shard(commune)
        if not shard.path.exists() or shard.path.stat().st_size < _EMPTY_SNAPSHOT_BYTES:
            return self._first_records(commune, records)
        try:
            with self.claims.claiming([r["id"] for r in records]) as buckets:
                mine = self._unclaimed(buckets, records, commune)
                with shard.appending(pending) as log:
                    fresh = self._not_stored(commune, mine, log.index)
                    for r in fresh:
                        buckets[self.claims.bucket_of(r["id"])].claim(r["id"], commune, sync=False)
                    for bucket in buckets.values():
                        bucket.sync()
                    _append_all(log, fresh)
        except BaseException:
            for flush in pending:
                flush.drop()
            raise
        run_flushes(pending)
        return len(fresh)

    def _unclaimed(self, buckets: dict, records: list[dict], commune: int) -> list[dict]:
        """``records`` whose id no other commune claims."""
        return [r for r in records if buckets[self.claims.bucket_of(r["id"])].owner(r["id"]) in (None, commune)]

    def _first_records(self, commune: int, records: list[dict]) -> int:
        """A commune's first records make its snapshot and kept summaries at once, in one
        write of a file that held nothing to decode (a generated campaign, a new commune)."""
        with self.claims.claiming([r["id"] for r in records]) as buckets:
            mine = self._unclaimed(buckets, records, commune)
            with self.shard(commune).write() as table:
                stored = {doc.doc_id for doc in table.all()}
                fresh = list({r["id"]: r for r in mine if r["id"] not in stored}.values())
                for r in fresh:
                    buckets[self.claims.bucket_of(r["id"])].claim(r["id"], commune, sync=False)
                for bucket in buckets.values():
                    bucket.sync()
                if fresh:
                    table.insert_multiple(Document(r, doc_id=r["id"]) for r in fresh)
        return len(fresh)

    def _not_stored(self, commune: int, records: list[dict], index: Any) -> list[dict]:
        """``records`` whose id the commune does not hold, each id once: the id hashes tell
        most apart; the commune is decoded (once) only when some hash is already there."""
        fresh = list({r["id"]: r for r in records}.values())
        if any(r["id"] in index for r in fresh):
            stored = set(self._picked({commune: [r["id"] for r in fresh]}))
            fresh = [r for r in fresh if r["id"] not in stored]
        return fresh

    def stored_among(self, commune_code: int, ids: Iterable[str]) -> dict[str, dict]:
        """The stored records among ``ids``, wherever they are: the commune is decoded only if
        its id hashes or its log may hold one of them, other communes only if the id claims
        name them, and each commune once."""
        commune, by_commune = int(commune_code), {}
        shard = self.shard(commune)
        rev, changes = shard.pending()
        hashes = read_id_file(shard.ids_path, rev) if rev else None
        logged = {c[1] for c in changes}
        elsewhere = []
        for key in set(ids):
            if hashes is None or key in logged or sorted_has(hashes, id_hash(key)):
                by_commune.setdefault(commune, []).append(key)
            else:
                elsewhere.append(key)
        found = self._picked(by_commune)
        elsewhere += [k for k in by_commune.get(commune, []) if k not in found]  # a hash's false alarm
        owners: dict[int, list[str]] = {}
        for key in elsewhere:
            owner = self.claims.owner(key)
            if owner is not None and owner != commune:
                owners.setdefault(owner, []).append(key)
        found.update(self._picked(owners))
        return found

    def _picked(self, by_commune: dict[int, list[str]]) -> dict[str, dict]:
        """The records of ``by_commune``'s ids that its communes hold, each commune read once,
        a piece at a time (``streamed``): an import of rows already stored held the commune decoded."""
        found = {}
        for code, keys in by_commune.items():
            wanted = set(keys)
            found.update((k, doc) for k, doc in streamed_items(self.shard(code)) if k in wanted)
        return found

    def is_empty(self) -> bool:
        """No commune file yet."""
        return next(self._communes_on_disk(), None) is None

    def backup_files(self, communes: Iterable[int]) -> dict[str, LoggedCollection]:
        """Every commune's file that exists, and those of ``communes`` whether or not they do."""
        codes = set(self._communes_on_disk()) | {int(c) for c in communes}
        return {f"households/{code}.json": self.shard(code) for code in sorted(codes)}

    def file_for(self, rel: str) -> LoggedCollection | None:
        """A commune's file, for ``households/<code>.json``."""
        match = _COMMUNE_FILE.fullmatch(rel)
        return self.shard(int(match.group(1))) if match else None

    def prepare_copy(self, file: Any) -> None:
        """The change log goes into the file before it is copied."""
        file.compact_locked()

    def restored(self) -> None:
        """The claims describe the old files: rebuild them on the next write."""
        self.claims.invalidate()
        self._derived.clear()
        self._tallies.forget()


def _append_all(log: Any, records: list[dict]) -> None:
    """Append every record, or, should one fail, cut the log back to where the batch began."""
    start = log.size
    try:
        for r in records:
            log.put(r["id"], r)
    except BaseException:
        groupsync.forget(log.shard.sync_path)
        os.ftruncate(log.fd, start)
        log.size = start
        log.shard.indexes.pop(log.shard.path, None)  # it counted the lines just cut
        raise
