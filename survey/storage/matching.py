"""What a household list asks of storage, and the searched forms of a record both backends keep.

The TinyDB files answer the office's list from each commune's search index, held in memory;
PostgreSQL answers it with a query over columns written with each record. Both keep the
same forms, worked out here in Python from the same ``fold`` and ``place_key``, so a search
finds the same records whichever backend holds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..text import fold, place_key

__all__ = ["SEPARATOR", "Match", "hamlet_key", "searched_text"]

SEPARATOR = "\x1f"  # between name and hamlet: no searched word holds it (str.split drops it)


def searched_text(record: dict) -> str:
    """The folded head name and hamlet: a searched word matches where it lies within either."""
    return fold(record.get("head_name", "")) + SEPARATOR + fold(record.get("hamlet", ""))


def hamlet_key(record: dict) -> str:
    """The record's hamlet as the hamlet filter compares it (any spelling of one place)."""
    return place_key(record.get("hamlet", ""))


@dataclass(frozen=True)
class Match:
    """Which records a list wants, every field already in the form the stored columns hold.

    ``communes`` in the order pages run through them; ``words`` folded, each one within the
    searched text; ``ids`` with ``without_ids`` false: only those records, with it true: all
    but those (the review filter); None: no filter on ids."""

    communes: tuple[int, ...]
    words: tuple[str, ...] = ()
    hamlet: str = ""
    officer: str = ""
    visited_on: str = ""
    ids: frozenset[str] | None = None
    without_ids: bool = False
