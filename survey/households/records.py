"""What a household record is to the service: the fields the server sets, its content, and
the create-once rule that makes a retried submission safe.

Storage only keeps records; these rules decide what a resend means.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from ..storage import HouseholdBackend
from ..storage.matching import Match

__all__ = ["SERVER_FIELDS", "Conflict", "HouseholdRecords", "content_of"]

SERVER_FIELDS = ("district_code", "officer", "created_at", "updated_at")


class Conflict(Exception):
    """A record with this id exists with different content (or in another commune)."""

    def __init__(self, existing: dict):
        super().__init__("a record with this id exists with different content")
        self.existing = existing


def content_of(record: dict) -> dict:
    """A record without the fields the server sets, for comparing submissions."""
    return {k: v for k, v in record.items() if k not in SERVER_FIELDS}


class HouseholdRecords:
    """Household records as the service sees them: a backend plus the create-once rule and
    the area a reader may see. The one door to households for views, the CLI and reports."""

    def __init__(self, backend: HouseholdBackend):
        self.backend = backend

    def create(self, record: dict, stamp: Callable[[], str]) -> tuple[dict, bool]:
        """Store a new record once: (stored, created). The same id and content again is the
        stored record with created=False; the same id with other content, or in another
        commune, raises Conflict. The backend decides atomically, so racing retries store one."""
        now = stamp()
        candidate = {**record, "created_at": now, "updated_at": now}
        existing = self.backend.create_once(candidate)
        if existing is None:
            return candidate, True
        if existing["commune_code"] != record["commune_code"] or content_of(existing) != content_of(record):
            raise Conflict(existing)
        return existing, False

    def replace(self, current: dict, record: dict, stamp: Callable[[], str]) -> dict:
        """Replace ``current`` by ``record`` (same id), keeping its creation time."""
        stored = {**record, "created_at": current["created_at"], "updated_at": stamp()}
        self.backend.replace(stored, current["commune_code"])
        return stored

    def remove(self, record: dict) -> bool:
        """Take one record out (its earlier versions are kept by the caller)."""
        return self.backend.remove(record)

    def get(self, record_id: str, communes: Iterable[int] | None = None) -> dict | None:
        """The record with this id, if it lies in ``communes`` (anywhere when None)."""
        communes = None if communes is None else list(communes)
        if communes is not None and len(communes) == 1:
            record = self.backend.get_in(communes[0], record_id)
            return None if record is None else dict(record)
        record = self.backend.get(record_id)
        if record is None or (communes is not None and record["commune_code"] not in set(communes)):
            return None
        return dict(record)

    def scan(self, commune_code: int) -> Iterable[dict]:
        """One commune's records (shared: do not change them)."""
        return self.backend.scan(commune_code)

    def records(self, communes: Iterable[int]) -> Iterator[dict]:
        """Every record of ``communes``, commune by commune, read once (exports)."""
        return self.backend.records(communes)

    def count(self, communes: Iterable[int]) -> int:
        """How many records ``communes`` hold."""
        return self.backend.count(communes)

    @property
    def searches_itself(self) -> bool:
        """Whether the backend answers the office's list (``find``) rather than a search index."""
        return self.backend.searches_itself

    def find(self, match: Match, skip: int, limit: int) -> tuple[int, list[dict]]:
        """How many records ``match`` and a page of them, from a backend that ``searches_itself``."""
        return self.backend.find(match, skip, limit)

    def derived(self, commune_code: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """A value of one commune's records, recomputed only when the commune changed."""
        return self.backend.derived(commune_code, name, compute)

    def stored_among(self, commune_code: int, ids: Iterable[str]) -> dict[str, dict]:
        """The stored records of ``ids``, by id, in as few reads as the backend can."""
        return self.backend.stored_among(commune_code, ids)

    def derived_many(self, communes: Iterable[int], name: str,
                     compute: Callable[[list[dict]], Any]) -> dict[int, Any]:
        """``derived`` of each of ``communes``, by code, in as few reads as the backend can."""
        return self.backend.derived_many(communes, name, compute)

    def change_token(self, communes: Iterable[int]) -> Hashable | None:
        """A value that changes after any write to ``communes`` (None: the backend has none)."""
        return self.backend.change_token(communes)

    def bulk_insert(self, commune_code: int, records: list[dict]) -> int:
        """Insert many new records of one commune in one write (demo data, imports)."""
        return self.backend.bulk_insert(commune_code, records)

    def is_empty(self) -> bool:
        """Whether no household has been stored yet."""
        return self.backend.is_empty()
