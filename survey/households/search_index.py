"""Each commune's search index for the office's household list, kept beside its file.

The index is a store summary (``KeptSummary``): written next to the commune's snapshot when
it changes and merged with the records logged since, so neither a worker's first search nor
a new submission decodes a whole commune again. In memory it is a few joined strings and
small integer columns (two bytes a record each), searched and filtered in numpy's C loops.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

import numpy as np

from ..storage import KeptSummary
from ..text import fold, place_key

__all__ = ["SEARCH_INDEX", "CommuneIndex", "search_summary", "search_tally"]

SEARCH_INDEX = "search"
_SEP = "\x1f"  # between name and hamlet: no searched word holds it (str.split drops it)
_END = "\n"
_COLUMNS = ("hamlet", "officer", "visit")


def _width(distinct: int) -> np.dtype:
    """The smallest unsigned little-endian type that numbers ``distinct`` values (two bytes for
    any real commune)."""
    return np.dtype("<u2" if distinct <= 1 << 16 else "<u4")


def _pack(codes: np.ndarray | list, distinct: int) -> str:
    """Codes as base64 of their bytes: JSON-able, and under 3 bytes a record in memory where a
    list of ints costs 8 (the store keeps each commune's tally to add new records to)."""
    return base64.b64encode(np.asarray(codes, dtype=_width(distinct)).tobytes()).decode("ascii")


def _unpack(column: list) -> np.ndarray:
    """The codes of a column, packed (``_pack``) or, as older kept files hold them, a list."""
    values, codes = column
    width = _width(len(values))
    if isinstance(codes, list):
        return np.asarray(codes, dtype=width.newbyteorder("="))
    return np.frombuffer(base64.b64decode(codes), dtype=width).astype(width.newbyteorder("="), copy=False)


def _coded(values: Iterable[str]) -> list:
    """[distinct values, packed code of each value] for a column of repeated values."""
    table: dict[str, int] = {}
    codes = [table.setdefault(v, len(table)) for v in values]
    return [list(table), _pack(codes, len(table))]


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
    values = list(a[0])
    table = {v: i for i, v in enumerate(values)}
    remap = np.array([table.setdefault(v, len(table)) for v in b[0]] or [0], dtype=np.int64)
    values.extend(v for v in b[0] if v not in a[0])
    codes = np.concatenate([_unpack(a).astype(np.int64), remap[_unpack(b).astype(np.int64)]])
    return [values, _pack(codes, len(values))]


def merge_tallies(a: dict, b: dict) -> dict:
    """The index of a's records followed by b's."""
    return {"n": a["n"] + b["n"], "ids": a["ids"] + b["ids"], "text": a["text"] + b["text"],
            **{c: _merge_column(a[c], b[c]) for c in _COLUMNS}}


class _Column:
    """Repeated values (hamlets, officers, days) as small integer codes."""

    def __init__(self, coded: list):
        self._codes = {v: i for i, v in enumerate(coded[0])}
        self.codes = _unpack(coded)

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
        self._id_starts = np.concatenate([[0], np.asarray(ends, dtype=np.int64) + 1]).astype(
            np.int32 if len(self._ids) < 1 << 31 else np.int64)
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
