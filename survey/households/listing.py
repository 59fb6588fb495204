"""Finding households for the office: filters, accent-free search and pages over a province.

Each commune's search index (``search_index``) is kept by the store beside its file, so a
filtered page does not decode every record again: only the page's own records are read in full.
A backend that searches itself (PostgreSQL) is asked for the page instead (``Match``), and no
worker of it holds an index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..storage.matching import Match
from ..text import fold, place_key
from .search_index import SEARCH_INDEX, CommuneIndex

__all__ = ["ListQuery", "Page", "REVIEW_STATES", "find"]

REVIEW_STATES = ("open", "corrected", "none")


@dataclass(frozen=True)
class ListQuery:
    """What the office asked for; every empty field means "any"."""

    communes: tuple[int, ...]
    hamlet: str = ""
    officer: str = ""
    visited_on: dt.date | None = None
    review: str = ""
    q: str = ""


@dataclass
class Page:
    """One page of matching records and how many match in all."""

    items: list[dict]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return (self.total + self.per_page - 1) // self.per_page


def _rows(index: CommuneIndex, query: ListQuery, flags: dict[str, str]) -> list[int]:
    """Rows of one commune that pass every filter of ``query``, in record order."""
    keep = np.ones(index.size, dtype=bool)
    for word in fold(query.q).split():
        keep &= index.containing(word)
    if query.hamlet:
        keep &= index.hamlets.equal(place_key(query.hamlet))
    if query.officer:
        keep &= index.officers.equal(query.officer)
    if query.visited_on:
        keep &= index.visits.equal(query.visited_on.isoformat())
    if query.review:
        keep &= _in_review_state(index, flags, query.review)
    return np.flatnonzero(keep).tolist()


def _in_review_state(index: CommuneIndex, flags: dict[str, str], state: str) -> np.ndarray:
    """Which rows are in review ``state``; "none" is every row without a flag."""
    marked = index.rows_holding(i for i, status in flags.items() if state == "none" or status == state)
    return ~marked if state == "none" else marked


def _matches(camp, query: ListQuery) -> Iterator[tuple[int, CommuneIndex, list[int]]]:
    """Per commune in scope, its index and the rows that pass the filters, in record order."""
    for code in query.communes:
        index = camp.households.derived(code, SEARCH_INDEX, CommuneIndex.of)
        if not index.size:
            continue
        flags = camp.flags.states(code) if query.review else {}
        yield code, index, _rows(index, query, flags)


def _match(camp, query: ListQuery) -> Match:
    """The query as the searched columns hold it (folded words, the hamlet's key, review ids)."""
    ids, without = None, False
    if query.review:
        flags = {i: status for code in query.communes for i, status in camp.flags.states(code).items()}
        without = query.review == "none"
        ids = frozenset(i for i, status in flags.items() if without or status == query.review)
    return Match(communes=query.communes, words=tuple(fold(query.q).split()),
                 hamlet=place_key(query.hamlet) if query.hamlet else "", officer=query.officer,
                 visited_on=query.visited_on.isoformat() if query.visited_on else "", ids=ids, without_ids=without)


def find(camp, query: ListQuery, page: int, per_page: int) -> Page:
    """The ``page``-th page of households matching ``query``, communes in gazetteer order."""
    skip, wanted, total = (page - 1) * per_page, [], 0
    if camp.households.searches_itself:
        total, items = camp.households.find(_match(camp, query), skip, per_page)
        return Page(items, total, page, per_page)
    for code, index, rows in _matches(camp, query):
        if len(wanted) < per_page and skip < len(rows):
            wanted.extend((code, index.id_at(r)) for r in rows[skip:skip + per_page - len(wanted)])
            skip = 0
        else:
            skip -= min(skip, len(rows))
        total += len(rows)
    items = [camp.households.get(record_id, [code]) for code, record_id in wanted]
    return Page([i for i in items if i is not None], total, page, per_page)
