"""Data quality: previous versions of corrected records, review flags, probable duplicates.

History and flags live in collections of their own (``history/<id prefix>``,
``reviews/<commune>``), so that a submission costs nothing more: only a correction or a
review decision writes here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..storage import DocumentSpace, DocumentStore
from ..text import fold, place_key
from .records import SERVER_FIELDS, HouseholdRecords

__all__ = ["History", "Flags", "probable_duplicates", "changes_between", "NotDuplicates", "current_group"]


def changes_between(before: dict, after: dict | None) -> dict[str, list]:
    """Field -> [old, new] for what a correction changed (server fields left out)."""
    if after is None:
        return {}
    keys = (set(before) | set(after)) - set(SERVER_FIELDS)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


class History:
    """Previous versions of records, found by record id (256 collections keyed by the id's first byte)."""

    prefix = "history/"

    def __init__(self, space: DocumentSpace):
        self.space = space

    def _shard(self, record_id: str) -> DocumentStore:
        return self.space.collection(f"{self.prefix}{record_id[:2].lower()}", "versions")

    def collections(self) -> list[DocumentStore]:
        """Every history collection there is (for backups)."""
        return list(self.space.iter_collections(self.prefix, "versions"))

    def add(self, before: dict, after: dict | None, by: str, at: str, reason: str = "") -> None:
        """Keep ``before`` as a version replaced by ``after`` (None: the record was removed)."""
        entry = {"record": before, "replaced_by": by, "replaced_at": at, "reason": reason,
                 "removed": after is None, "changes": changes_between(before, after)}
        with self._shard(before["id"]).update() as docs:
            doc = docs.get(before["id"])
            versions = list(doc["versions"]) if doc else []
            versions.append(entry)
            docs.put(before["id"], {"versions": versions})

    def versions(self, record_id: str, communes: Iterable[int]) -> list[dict]:
        """Earlier versions that lay in ``communes``, oldest first: a reader never sees a
        version from outside their area (a record moved in, or an id reused before ids were
        unique in the province)."""
        doc = self._shard(record_id).get(record_id)
        area = set(communes)
        return [v for v in doc["versions"] if v["record"].get("commune_code") in area] if doc else []


class Flags:
    """Review flags ("needs correction") per commune, keyed by record id."""

    prefix = "reviews/"

    def __init__(self, space: DocumentSpace):
        self.space = space

    def _shard(self, commune_code: int) -> DocumentStore:
        return self.space.collection(f"{self.prefix}{int(commune_code)}", "flags")

    def _dismissed(self) -> DocumentStore:
        return self.space.collection(f"{self.prefix}dismissed", "pairs")

    def collections(self) -> list[DocumentStore]:
        """Every flag collection there is, and the dismissed groups (for backups)."""
        return [self._dismissed() if name.endswith("/dismissed") else self.space.collection(name, "flags")
                for name in self.space.names(self.prefix)]

    def flag(self, record: dict, reason: str, by: str, at: str) -> dict:
        """Mark a record as needing correction, with the reviewer's reason."""
        doc = {"record_id": record["id"], "commune_code": record["commune_code"], "reason": reason,
               "flagged_by": by, "flagged_at": at, "status": "open"}
        self._shard(record["commune_code"]).put(record["id"], doc)
        return doc

    def resolve(self, record_id: str, commune_code: int, by: str, at: str,
                status: str = "corrected") -> dict | None:
        """Close an open flag (corrected, or checked with no change); None if there was none."""
        shard = self._shard(commune_code)
        doc = shard.get(record_id)
        if doc is None or doc["status"] != "open":
            return None
        doc.update(status=status, resolved_by=by, resolved_at=at)
        shard.put(record_id, doc)
        return doc

    def get(self, record_id: str, commune_code: int) -> dict | None:
        return self._shard(commune_code).get(record_id)

    def states(self, commune_code: int) -> dict[str, str]:
        """Record id -> flag status ("open", "corrected") of one commune's flagged records."""
        return {rid: doc["status"] for rid, doc in self._shard(commune_code).documents().items()}

    def dismiss(self, ids: Iterable[str], by: str, at: str) -> None:
        """Record a reviewer's decision that these records are different households."""
        key = ",".join(sorted(ids))
        self._dismissed().put(key, {"ids": sorted(ids), "by": by, "at": at})

    def dismissed(self) -> set[frozenset[str]]:
        """Groups of records already judged not to be duplicates."""
        docs = self._dismissed().documents().values()
        return {frozenset(d["ids"]) for d in docs}

    def open_flags(self, communes: Iterable[int]) -> list[dict]:
        """Open flags of ``communes``, oldest first."""
        found = [dict(d) for c in communes for d in self._shard(c).documents().values() if d["status"] == "open"]
        return sorted(found, key=lambda d: d["flagged_at"])


def duplicate_key(record: dict) -> tuple:
    """Same commune, same hamlet (as a place) and same head name (accents and case folded)."""
    return record["commune_code"], place_key(record["hamlet"]), fold(record["head_name"])


def probable_duplicates(store: HouseholdRecords, communes: Iterable[int],
                        dismissed: set[frozenset[str]] = frozenset()) -> list[list[dict]]:
    """Groups of records that look like one household entered by different officers."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for record in store.records(communes):
        groups[duplicate_key(record)].append(record)
    found = []
    for records in groups.values():
        officers = {r["officer"] for r in records}
        ids = frozenset(r["id"] for r in records)
        if len(records) > 1 and len(officers) > 1 and ids not in dismissed:
            found.append(sorted(records, key=lambda r: r["created_at"]))
    return sorted(found, key=lambda g: (g[0]["commune_code"], g[0]["hamlet"]))


class NotDuplicates(ValueError):
    """Records a reviewer named are not one current probable-duplicate group; ``key`` says why."""

    def __init__(self, key: str, status: int):
        super().__init__(key)
        self.key, self.status = key, status


def current_group(store: HouseholdRecords, ids: list[str], communes: Iterable[int],
                  dismissed: set[frozenset[str]]) -> list[dict]:
    """The records ``ids`` (oldest first) if they are distinct and all of one listed group.

    The review form sends the ids of a group, but a form can be rewritten: one record
    named twice, or two unrelated ones, must not be settled as duplicates of each other.
    """
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise NotDuplicates("dup_distinct", 400)
    wanted = set(ids)
    for group in probable_duplicates(store, communes, dismissed):
        if wanted <= {r["id"] for r in group}:
            return [r for r in group if r["id"] in wanted]
    raise NotDuplicates("dup_not_group", 409)
