"""Finding households for the office: filters, accent-free search and pages over a province.

Each commune keeps a small search index (id, folded name and hamlet, hamlet key, officer,
visit date), computed by the store once per revision of its file, so a filtered page does
not decode every record again: only the page's own records are read in full.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Iterator

from ..text import fold, place_key

__all__ = ["ListQuery", "Page", "REVIEW_STATES", "find", "index_rows"]

REVIEW_STATES = ("open", "corrected", "none")
_INDEX = "list-index"
_SEP = "\x1f"


@dataclass(frozen=True)
class ListQuery:
    """What the office asked for; every empty field means "any"."""

    communes: tuple[int, ...]
    hamlet: str = ""
    officer: str = ""
    visited_on: dt.date | None = None
    review: str = ""
    q: str = ""

    def keeps(self, row: tuple, flags: dict[str, str]) -> bool:
        """Whether one index row (and its review state) passes every filter."""
        record_id, text, hamlet_key, officer, visited_on = row
        if self.hamlet and hamlet_key != place_key(self.hamlet):
            return False
        if self.officer and officer != self.officer:
            return False
        if self.visited_on and visited_on != self.visited_on.isoformat():
            return False
        if self.review and flags.get(record_id, "none") != self.review:
            return False
        return not self.q or all(word in text for word in fold(self.q).split())


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


def index_rows(records: list[dict]) -> list[tuple]:
    """The search index of one commune, in record order; repeated values shared in memory."""
    return [(rec["id"], fold(rec.get("head_name", "")) + _SEP + fold(rec.get("hamlet", "")),
             sys.intern(place_key(rec.get("hamlet", ""))), sys.intern(rec.get("officer", "")),
             sys.intern(rec.get("visited_on") or "")) for rec in records]


def _matches(camp, query: ListQuery) -> Iterator[tuple[int, list[str]]]:
    """Per commune in scope, the ids that pass the filters, in record order."""
    for code in query.communes:
        rows = camp.households.derived(code, _INDEX, index_rows)
        if not rows:
            continue
        flags = camp.flags.states(code) if query.review else {}
        yield code, [row[0] for row in rows if query.keeps(row, flags)]


def find(camp, query: ListQuery, page: int, per_page: int) -> Page:
    """The ``page``-th page of households matching ``query``, communes in gazetteer order."""
    skip, wanted, total = (page - 1) * per_page, [], 0
    for code, ids in _matches(camp, query):
        if len(wanted) < per_page and skip < len(ids):
            wanted.extend((code, i) for i in ids[skip:skip + per_page - len(wanted)])
            skip = 0
        else:
            skip -= min(skip, len(ids))
        total += len(ids)
    items = [camp.households.shard(code).get(record_id) for code, record_id in wanted]
    return Page([i for i in items if i is not None], total, page, per_page)
