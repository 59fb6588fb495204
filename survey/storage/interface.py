"""What household storage offers the rest of the service: one small contract, any backend.

The households package holds the rules (what a record's content is, when a resend is a
conflict, who may write where); a backend only keeps records, atomically and durably.
Every implementation runs the same contract tests (``tests/storage/test_contract.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from .matching import Match
from .tallies import KeptSummary

__all__ = ["HouseholdBackend"]


class HouseholdBackend(ABC):
    """Household records by id, grouped by commune; ids are unique in the province.

    Every write is durable when the method returns. Records are plain dicts with at least
    ``id`` (str) and ``commune_code`` (int); callers must not change the dicts they get back.
    """

    searches_itself = False  # True: ``find`` answers the office's list; no search index is kept

    @abstractmethod
    def create_once(self, record: dict) -> dict | None:
        """Store ``record`` unless its id is stored anywhere; the stored record if it was.

        Decided atomically: of racing calls with one id, exactly one stores.
        """

    @abstractmethod
    def replace(self, record: dict, previous_commune: int) -> None:
        """Replace the stored record of ``record['id']``, moving it from ``previous_commune``;
        NotStored (nothing written) if it is not stored there, so a removed record never returns."""

    @abstractmethod
    def remove(self, record: dict) -> bool:
        """Delete one record; False if it was not stored."""

    @abstractmethod
    def get(self, record_id: str) -> dict | None:
        """The record with this id, wherever it is, or None."""

    def get_in(self, commune_code: int, record_id: str) -> dict | None:
        """The record with this id if ``commune_code`` holds it, or None."""
        record = self.get(record_id)
        return record if record is not None and record["commune_code"] == int(commune_code) else None

    @abstractmethod
    def scan(self, commune_code: int, cache: bool = True) -> Iterable[dict]:
        """Every record of one commune in insertion order (``cache=False`` for one-off reads)."""

    @abstractmethod
    def count(self, communes: Iterable[int]) -> int:
        """How many records ``communes`` hold."""

    @abstractmethod
    def keep_summary(self, name: str, summary: KeptSummary) -> None:
        """Keep ``summary`` of each commune up to date, for ``derived(code, name, ...)``."""

    @abstractmethod
    def derived(self, commune_code: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """A value of one commune's records (a kept summary or ``compute``), recomputed only
        when the commune changed."""

    def stored_among(self, commune_code: int, ids: Iterable[str]) -> dict[str, dict]:
        """The stored records of ``ids`` (in any commune), by id; an import batch of
        ``commune_code`` asks before it writes (shared: do not change them). Here: the commune
        read once, by id elsewhere."""
        here = {r["id"]: r for r in self.scan(commune_code, cache=False)}
        found = {key: here.get(key) or self.get(key) for key in set(ids)}
        return {key: record for key, record in found.items() if record is not None}

    def derived_many(self, communes: Iterable[int], name: str,
                     compute: Callable[[list[dict]], Any]) -> dict[int, Any]:
        """``derived`` of each commune, by code (a database checks their versions at once)."""
        return {code: self.derived(code, name, compute) for code in communes}

    @abstractmethod
    def bulk_insert(self, commune_code: int, records: list[dict]) -> int:
        """Insert many new records of one commune at once; ids already stored (anywhere) are
        left as they are. Returns how many were added."""

    @abstractmethod
    def is_empty(self) -> bool:
        """Whether no household has been stored yet."""

    @abstractmethod
    def backup_files(self, communes: Iterable[int]) -> dict[str, Any]:
        """The files this backend keeps under the data directory, by relative path, each with
        ``locked()`` and ``replace_file(raw)``, for a backup or restore of one consistent moment.
        Before a copy, ``prepare_copy(rel, file)`` brings each file up to date."""

    @abstractmethod
    def file_for(self, rel: str) -> Any | None:
        """The file at relative path ``rel`` if this backend owns such a path, else None."""

    def change_token(self, communes: Iterable[int]) -> Hashable | None:
        """A cheap value that differs after any write to ``communes``, by any process; None
        when the backend has none (callers then compute afresh every time)."""
        return None

    def prepare_copy(self, file: Any) -> None:
        """Under the file's lock, before it is copied: make the file hold every change."""

    def restored(self) -> None:
        """After a restore replaced the files: drop what was derived from the old ones."""

    def find(self, match: Match, skip: int, limit: int) -> tuple[int, list[dict]]:
        """How many records ``match``, and ``limit`` of them after the first ``skip``; only a
        backend that ``searches_itself`` answers, the others serve the search index instead."""
        raise NotImplementedError(f"{type(self).__name__} keeps a search index instead")

    def records(self, communes: Iterable[int]) -> Iterator[dict]:
        """Every record of ``communes``, commune by commune (one-off reads: exports)."""
        for code in communes:
            yield from self.scan(code, cache=False)
