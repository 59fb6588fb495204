"""Each commune's search index for the office's household list, kept beside its file.

The index is a store summary (``KeptSummary``): written next to the commune's snapshot when
it changes and merged with the records logged since, so neither a worker's first search nor
a new submission decodes a whole commune again. In memory it is a few joined strings and
small integer columns, about 150 bytes a record, searched and filtered in numpy's C loops.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..storage import KeptSummary
from ..text import fold, place_key

__all__ = ["SEARCH_INDEX", "CommuneIndex", "search_summary", "search_tally"]

SEARCH_INDEX = "search"
_SEP = "\x1f"  # between name and hamlet: no searched word holds it (str.split drops it)
_END = "\n"
_COLUMNS = ("hamlet", "officer", "visit")


def _coded(values: Iterable[str]) -> list:
    """[distinct values, code of each value] for a column of repeated values."""
    table: dict[str, int] = {}
    codes = [table.setdefault(v, len(table)) for v in values]
    return [list(table), codes]


def _joined(values: Iterable[str]) -> str:
    return "".join(v + _END for v in values)


def search_tally(records: list[dict]) -> dict:
    """The JSON-able index of ``records``, in record order."""
    return {"n": len(records), "ids": _joined(r["id"] for r in records),
            "text": _joined(fold(r.get("head_name", "")) + _SEP + fold(r.get("hamlet", "")) for r in records),
            "hamlet": _coded(place_key(r.get("hamlet", "")) for r in records),
            "officer": _coded(r.get("officer", "") for r in records),
            "visit": _coded(r.get("visited_on") or "" for r in records)}


def _merge_column(a: list, b: list) -> list:
    values, codes = list(a[0]), list(a[1])
    table = {v: i for i, v in enumerate(values)}
    remap = [table.setdefault(v, len(table)) for v in b[0]]
    values.extend(v for v in b[0] if v not in a[0])
    return [values, codes + [remap[c] for c in b[1]]]


def merge_tallies(a: dict, b: dict) -> dict:
    """The index of a's records followed by b's."""
    return {"n": a["n"] + b["n"], "ids": a["ids"] + b["ids"], "text": a["text"] + b["text"],
            **{c: _merge_column(a[c], b[c]) for c in _COLUMNS}}


class _Column:
    """Repeated values (hamlets, officers, days) as small integer codes."""

    def __init__(self, coded: list):
        self._codes = {v: i for i, v in enumerate(coded[0])}
        self.codes = np.array(coded[1], dtype=np.int32)

    def equal(self, value: str) -> np.ndarray:
        """Which rows hold ``value``."""
        return self.codes == self._codes.get(value, -1)


class CommuneIndex:
    """One commune's index, ready to search: text as a numpy byte-string column."""

    def __init__(self, tally: dict):
        self.size = tally["n"]
        self._ids = tally["ids"]
        ends = [i for i, ch in enumerate(self._ids) if ch == _END] if not self._ids.isascii() else \
            np.flatnonzero(np.frombuffer(self._ids.encode(), dtype=np.uint8) == 10)
        self._id_starts = np.concatenate([[0], np.asarray(ends, dtype=np.int64) + 1])
        self.text = np.array(tally["text"].encode().split(b"\n")[:-1] or [b""], dtype="S")[:self.size]
        self.hamlets, self.officers, self.visits = (_Column(tally[c]) for c in _COLUMNS)

    @classmethod
    def of(cls, records: list[dict]) -> CommuneIndex:
        """The index of records read in full (when no kept index fits)."""
        return cls(search_tally(records))

    def id_at(self, row: int) -> str:
        """The record id of one row."""
        return self._ids[self._id_starts[row]:self._id_starts[row + 1] - 1]

    def row_of(self, record_id: str) -> int | None:
        """The row of a record id, or None when the commune does not hold it."""
        at = self._ids.find(record_id + _END)
        while at > 0 and self._ids[at - 1] != _END:
            at = self._ids.find(record_id + _END, at + 1)
        return None if at < 0 else int(np.searchsorted(self._id_starts, at, side="right")) - 1

    def containing(self, word: str) -> np.ndarray:
        """Which rows' folded name or hamlet holds ``word``."""
        return np.strings.find(self.text, word.encode()) >= 0


def search_summary() -> KeptSummary:
    """The index as a summary the household store keeps beside each commune's file."""
    return KeptSummary(tally=search_tally, merge=merge_tallies, finish=CommuneIndex, version="1")
