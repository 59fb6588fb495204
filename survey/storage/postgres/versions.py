"""Commune versions: bumped in every write's transaction, read once a request.

A warm aggregate asks for the versions of the communes in scope (its change token); a stale
one then checks the kept values of those communes against the same versions. Within one
request they are read once, and read again only after the request itself wrote households.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TypeVar

import psycopg

from . import connection

__all__ = ["CommuneVersions"]

T = TypeVar("T")
Versions = tuple[tuple[int, int], ...]
_VERSIONS = ("SELECT commune_code, version FROM household_communes WHERE commune_code = ANY(%s::integer[])"
             " ORDER BY commune_code")


@functools.lru_cache(maxsize=512)
def _int_array(codes: tuple[int, ...]) -> str:
    """The communes as the text of an integer array (``{4789,4792}``), sorted, each set made
    once: psycopg dumps a list of 151 codes element by element, more Python time than the
    query it goes with, and a string goes as it is."""
    return "{" + ",".join(str(c) for c in sorted({int(c) for c in codes})) + "}"


class CommuneVersions:
    """The versions of sets of communes in the database at ``url``, noted for the request."""

    def __init__(self, url: str, read: Callable[[Callable[[psycopg.Connection], T]], T]):
        self.url, self._read = url, read

    def of(self, communes: Iterable[int]) -> Versions:
        """(commune, version) of each of ``communes`` ever written, in code order."""
        codes = _int_array(tuple(communes))
        notes = connection.request_notes()
        noted = notes.setdefault((self.url, _VERSIONS), {}) if notes is not None else {}
        if codes not in noted:
            noted[codes] = tuple(self._read(lambda conn: conn.execute(_VERSIONS, (codes,)).fetchall()))
        return noted[codes]

    def wrote(self) -> None:
        """This request changes households: its later reads of versions go to the database."""
        notes = connection.request_notes()
        if notes is not None:
            notes.pop((self.url, _VERSIONS), None)
