"""Finding households for the office: filters, accent-free search and pages over a province.

Each commune keeps a small search index (id, folded name and hamlet, hamlet key, officer,
visit date), computed by the store once per revision of its file, so a filtered page does
not decode every record again: only the page's own records are read in full.
"""

from __future__ import annotations

import datetime as dt
import sys
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from ..text import fold, place_key

__all__ = ["CommuneIndex", "ListQuery", "Page", "REVIEW_STATES", "find"]

REVIEW_STATES = ("open", "corrected", "none")
_INDEX = "list-index"
_SEP = "\x1f"  # between name and hamlet: no searched word holds it (str.split drops it)
_END = "\n"


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


class CommuneIndex:
    """One commune's records as the list searches them, packed into numpy columns (about 100
    bytes a record, so a worker can hold a province of a million) and filtered in C loops."""

    def __init__(self, records: list[dict]):
        self.size = len(records)
        self._ids, self._id_starts = _packed(rec["id"] for rec in records)
        self.text = np.array([(fold(rec.get("head_name", "")) + _SEP + fold(rec.get("hamlet", ""))).encode()
                              for rec in records] or [b""], dtype="S")[:self.size]
        self.hamlets = _Column(place_key(rec.get("hamlet", "")) for rec in records)
        self.officers = _Column(rec.get("officer", "") for rec in records)
        self.visits = _Column(rec.get("visited_on") or "" for rec in records)

    def id_at(self, row: int) -> str:
        """The record id of one row."""
        return self._ids[self._id_starts[row]:self._id_starts[row + 1] - 1]

    def row_of(self, record_id: str) -> int | None:
        """The row of a record id, or None when the commune does not hold it."""
        at = self._ids.find(record_id + _END)
        while at > 0 and self._ids[at - 1] != _END:
            at = self._ids.find(record_id + _END, at + 1)
        return None if at < 0 else bisect_right(self._id_starts, at) - 1

    def containing(self, word: str) -> np.ndarray:
        """Which rows' folded name or hamlet holds ``word``."""
        return np.strings.find(self.text, word.encode()) >= 0


class _Column:
    """Repeated values (hamlets, officers, days) as small integer codes."""

    def __init__(self, values: Iterable[str]):
        self._codes: dict[str, int] = {}
        self.codes = np.fromiter((self._codes.setdefault(v, len(self._codes)) for v in values), dtype=np.int32)

    def equal(self, value: str) -> np.ndarray:
        """Which rows hold ``value``."""
        return self.codes == self._codes.get(value, -1)


def _packed(values: Iterable[str]) -> tuple[str, array]:
    """Values joined by line ends, and where each one starts (one more for the end)."""
    starts, joined, at = array("I", [0]), [], 0
    for value in values:
        joined.append(value)
        at += len(value) + 1
        starts.append(at)
    return _END.join(joined) + _END if joined else "", starts


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
    marked = np.zeros(index.size, dtype=bool)
    for record_id, status in flags.items():
        row = index.row_of(record_id)
        if row is not None and (state == "none" or status == state):
            marked[row] = True
    return ~marked if state == "none" else marked


def _matches(camp, query: ListQuery) -> Iterator[tuple[int, CommuneIndex, list[int]]]:
    """Per commune in scope, its index and the rows that pass the filters, in record order."""
    for code in query.communes:
        index = camp.households.derived(code, _INDEX, CommuneIndex)
        if not index.size:
            continue
        flags = camp.flags.states(code) if query.review else {}
        yield code, index, _rows(index, query, flags)


def find(camp, query: ListQuery, page: int, per_page: int) -> Page:
    """The ``page``-th page of households matching ``query``, communes in gazetteer order."""
    skip, wanted, total = (page - 1) * per_page, [], 0
    for code, index, rows in _matches(camp, query):
        if len(wanted) < per_page and skip < len(rows):
            wanted.extend((code, index.id_at(r)) for r in rows[skip:skip + per_page - len(wanted)])
            skip = 0
        else:
            skip -= min(skip, len(rows))
        total += len(rows)
    items = [camp.households.shard(code).get(record_id) for code, record_id in wanted]
    return Page([i for i in items if i is not None], total, page, per_page)
