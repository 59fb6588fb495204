"""Each commune's search index for the office's household list, kept beside its file.

The index is a store summary (``KeptSummary``): written next to the commune's snapshot when
it changes and merged with the records logged since, so neither a worker's first search nor
a new submission decodes a whole commune again. In memory it is a few joined strings and
small integer columns (two bytes a record each), searched and filtered in numpy's C loops;
record ids take 16 bytes each (``record_ids``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

import numpy as np

from ..storage import KeptSummary
from ..storage.matching import SEPARATOR, hamlet_key, searched_text
from ..text import fold
from .record_ids import RecordIds

__all__ = ["SEARCH_INDEX", "CommuneIndex", "search_summary", "search_tally"]

SEARCH_INDEX = "search"
_SEP = SEPARATOR
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
            "text": _joined(searched_text(r) for r in records),
            "hamlet": _coded(hamlet_key(r) for r in records),
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

    def __init__(self, values: list[str], codes: np.ndarray):
        self.values = values
        self._codes = {v: i for i, v in enumerate(values)}
        self.codes = codes

    @classmethod
    def of(cls, coded: list) -> _Column:
        """The column of a tally's [distinct values, packed codes]."""
        return cls(list(coded[0]), _unpack(coded))

    def equal(self, value: str) -> np.ndarray:
        """Which rows hold ``value``."""
        return self.codes == self._codes.get(value, -1)

    def extended(self, other: _Column) -> _Column:
        """This column's rows followed by ``other``'s."""
        table = dict(self._codes)
        remap = np.array([table.setdefault(v, len(table)) for v in other.values] or [0], dtype=np.int64)
        codes = np.concatenate([self.codes.astype(np.int64), remap[other.codes.astype(np.int64)]])
        return _Column(list(table), codes.astype(_width(len(table)).newbyteorder("=")))


class CommuneIndex:
    """One commune's index, ready to search: ids (``RecordIds``), folded names as a numpy
    byte-string column, codes; about 45 bytes a household, the only copy a worker keeps (``hold``)."""

    def __init__(self, tally: dict):
        self.size = tally["n"]
        self.ids = RecordIds.of(tally["ids"], self.size)
        lines = np.array(tally["text"].encode().split(b"\n")[:-1] or [b""], dtype="S")
        # names alone (hamlets are searched by code); a copy, since partition's parts are views
        # of one array that holds the hamlets too
        self.text = np.strings.partition(lines, _SEP.encode())[0][:self.size].copy()
        self.hamlets, self.officers, self.visits = (_Column.of(tally[c]) for c in _COLUMNS)
        self._folded: list[str] | None = None

    @classmethod
    def of(cls, records: list[dict]) -> CommuneIndex:
        """The index of records read in full (when no kept index fits)."""
        return cls(search_tally(records))

    def extended(self, tally: dict) -> CommuneIndex:
        """A new index: these rows, then the rows of ``tally`` (records logged since)."""
        other = CommuneIndex(tally)
        joined = object.__new__(CommuneIndex)
        joined._folded = None
        joined.size = self.size + other.size
        joined.ids = self.ids.extended(other.ids)
        joined.text = np.concatenate([self.text[:self.size], other.text[:other.size]])
        joined.hamlets, joined.officers, joined.visits = (
            getattr(self, c).extended(getattr(other, c)) for c in ("hamlets", "officers", "visits"))
        return joined

    def id_at(self, row: int) -> str:
        """The record id of one row."""
        return self.ids.at(row)

    def row_of(self, record_id: str) -> int | None:
        """The row of a record id, or None when the commune does not hold it."""
        rows = np.flatnonzero(self.ids.holding([record_id]))
        return int(rows[0]) if len(rows) else None

    def rows_holding(self, record_ids: Iterable[str]) -> np.ndarray:
        """Which rows hold one of ``record_ids`` (one pass, however many ids)."""
        return self.ids.holding(list(record_ids))

    def containing(self, word: str) -> np.ndarray:
        """Which rows' folded name or hamlet holds ``word``.

        Only names are held as text; a hamlet is the same for hundreds of rows, so its
        folded name is searched once and its rows found by code. A searched word holds no
        space, so it never spans a name and a hamlet: the rows are those the joined text gave."""
        in_name = np.strings.find(self.text, word.encode()) >= 0
        hamlets = [code for code, folded in enumerate(self._folded_hamlets()) if word in folded]
        return in_name | np.isin(self.hamlets.codes, hamlets) if hamlets else in_name

    def _folded_hamlets(self) -> list[str]:
        """Each hamlet code's folded name (the same for every spelling of a place_key)."""
        if self._folded is None:
            self._folded = [fold(v) for v in self.hamlets.values]
        return self._folded


def _held(value: dict | CommuneIndex) -> CommuneIndex:
    """The index of a tally, or the index itself when the store already holds it built."""
    return value if isinstance(value, CommuneIndex) else CommuneIndex(value)


def search_summary() -> KeptSummary:
    """The index as a summary the household store keeps beside each commune's file; a worker
    holds it built (``hold``), not as the JSON tally beside the built index."""
    return KeptSummary(tally=search_tally, merge=merge_tallies, finish=_held, version="1",
                       hold=CommuneIndex, add=CommuneIndex.extended)
