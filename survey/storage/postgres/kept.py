"""Values derived from each commune's records, kept so that a request never scans a commune.

A commune's version (``household_communes``) says whether a value held in memory is still
current. A kept summary (hamlet tallies, the day-by-day activity) is also stored in
``household_tallies`` with the version it covers: a worker that lacks it, or holds an older
one, reads it and adds only the records written since (their version is greater), unless an
earlier record was changed or removed since (``rewritten``), which only a recount can answer.

Whether a held value is current costs one primary-key read of the commune's row, the
database's counterpart of the files' ``stat``: a write by any worker or host is seen at once.
Values of many communes (a district, the province) are checked with one read of all their rows.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import orjson
import psycopg

from ..tallies import KeptSummary

__all__ = ["STORE_AFTER", "KeptValues"]

STORE_AFTER = 500  # records added to a stored tally before it is stored again

Reading = Callable[..., AbstractContextManager[psycopg.Cursor]]
# a commune's version and rewrite mark, with each record written after a version (none: NULLs)
_SINCE = ("SELECT c.version, c.rewritten, h.version, h.record FROM household_communes c"
          " LEFT JOIN LATERAL (SELECT version, record, seq FROM households"
          " WHERE commune_code = c.commune_code AND version > %s) h ON true"
          " WHERE c.commune_code = %s ORDER BY h.seq")


class KeptValues:
    """Derived values of communes: in memory by commune version, kept summaries in the database."""

    def __init__(self, reading: Reading):
        self._reading = reading
        self.kinds: dict[str, KeptSummary] = {}
        self._values: dict[tuple[int, str], tuple[int, Any]] = {}
        self._bases: dict[tuple[int, str], tuple[int, Any]] = {}  # raw tallies, to add to

    def forget(self) -> None:
        """Drop everything held in memory."""
        self._values.clear()
        self._bases.clear()

    def version(self, commune: int) -> int:
        """The commune's version now (0: never written)."""
        with self._reading() as cur:
            return self._current(cur, commune)[0]

    def value(self, commune: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """The value held for the commune's current version, else worked out again."""
        held = self._values.get((commune, name))
        if held is not None and held[0] == self.version(commune):
            return held[1]
        return self._fresh(commune, name, compute)

    def values(self, communes: list[int], name: str, compute: Callable[[list[dict]], Any],
               versions: dict[int, int]) -> dict[int, Any]:
        """``value`` of each commune, against ``versions`` read at once for all of them (not
        one read a commune; a commune missing there was never written: version 0)."""
        out = {}
        for code in communes:
            held = self._values.get((code, name))
            current = held is not None and held[0] == versions.get(code, 0)
            out[code] = held[1] if current else self._fresh(code, name, compute)
        return out

    def _fresh(self, commune: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """The value worked out from the stored tally or the records, and held."""
        if name in self.kinds:
            version, value = self._kept(commune, name)
        else:
            version, records = self._records(commune)
            value = compute(records)
        self._values[(commune, name)] = (version, value)
        return value

    def _records(self, commune: int, after: int = 0) -> tuple[int, list[dict]]:
        """The commune's version and its records written after version ``after``, in order."""
        with self._reading(snapshot=True) as cur:
            version = self._current(cur, commune)[0]
            cur.execute("SELECT record FROM households WHERE commune_code = %s AND version > %s ORDER BY seq",
                        (commune, after))
            return version, [row[0] for row in cur]

    @staticmethod
    def _current(cur: psycopg.Cursor, commune: int) -> tuple[int, int]:
        row = cur.execute("SELECT version, rewritten FROM household_communes WHERE commune_code = %s",
                          (commune,)).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def _kept(self, commune: int, name: str) -> tuple[int, Any]:
        """A kept summary: the held or stored tally plus the records written since."""
        return self._kept_all(commune, [name])[name]

    def _kept_all(self, commune: int, names: list[str]) -> dict[str, tuple[int, Any]]:
        """Kept summaries of one commune by name, the records written since the oldest of
        their tallies read once for all of them (after an import batch: its records, once)."""
        held = self._held_since(commune, names)
        if held is not None:
            return held
        with self._reading(snapshot=True) as cur:
            version, rewritten = self._current(cur, commune)
            bases = {name: self._base(cur, commune, name, version, rewritten) for name in names}
            since = min(0 if base is None else base[0] for base in bases.values())
            cur.execute("SELECT version, record FROM households WHERE commune_code = %s AND version > %s"
                        " ORDER BY seq", (commune, since))
            rows = cur.fetchall()
        return {name: self._settled(commune, name, version, base,
                                    [record for at, record in rows if base is None or at > base[0]])
                for name, base in bases.items()}

    def _held_since(self, commune: int, names: list[str]) -> dict[str, tuple[int, Any]] | None:
        """The common case after a few submissions: every tally held, so the commune's version
        and the records written since go in one statement (one snapshot, one round trip, not a
        transaction of four); None when a tally is missing or an earlier record changed since."""
        bases = {name: self._bases.get((commune, name)) for name in names}
        if any(base is None for base in bases.values()):
            return None
        since = min(base[0] for base in bases.values())
        with self._reading() as cur:
            rows = cur.execute(_SINCE, (since, commune)).fetchall()
        if not rows:
            return None
        version, rewritten = rows[0][0], rows[0][1]
        if any(base[0] < rewritten or base[0] > version for base in bases.values()):
            return None
        added = [(at, record) for _, _, at, record in rows if at is not None]
        return {name: self._settled(commune, name, version, base, [record for at, record in added if at > base[0]])
                for name, base in bases.items()}

    def _base(self, cur: psycopg.Cursor, commune: int, name: str, version: int,
              rewritten: int) -> tuple[int, Any] | None:
        """The tally to add to: held, else stored; none when an earlier record changed since."""
        base = self._bases.get((commune, name))
        if base is None or base[0] < rewritten or base[0] > version:
            base = self._stored(cur, commune, name, self.kinds[name])
        return None if base is None or base[0] < rewritten else base

    def _settled(self, commune: int, name: str, version: int, base: tuple[int, Any] | None,
                 added: list[dict]) -> tuple[int, Any]:
        """The base plus ``added``, held (and stored when new or grown a lot); the finished value."""
        kind = self.kinds[name]
        tally = kind.tally(added) if base is None else kind.merge(base[1], kind.tally(added)) if added else base[1]
        self._bases[(commune, name)] = (version, tally)
        if base is None or len(added) >= STORE_AFTER:
            self._store(commune, name, kind, version, tally)
        return version, kind.finish(tally)

    @staticmethod
    def _stored(cur: psycopg.Cursor, commune: int, name: str, kind: KeptSummary) -> tuple[int, Any] | None:
        row = cur.execute("SELECT version, tally FROM household_tallies WHERE commune_code = %s AND name = %s"
                          " AND shape = %s", (commune, name, kind.version)).fetchone()
        return None if row is None else (row[0], row[1])

    def _store(self, commune: int, name: str, kind: KeptSummary, version: int, tally: Any) -> None:
        """Keep the tally for every worker; an older one never replaces a newer."""
        with self._reading() as cur:
            cur.execute("""
                INSERT INTO household_tallies AS t (commune_code, name, shape, version, tally)
                VALUES (%s, %s, %s, %s, %s::json)
                ON CONFLICT (commune_code, name) DO UPDATE
                SET shape = EXCLUDED.shape, version = EXCLUDED.version, tally = EXCLUDED.tally
                WHERE t.version < EXCLUDED.version OR t.shape <> EXCLUDED.shape""",
                        (commune, name, kind.version, version, orjson.dumps(tally).decode()))

    def refresh(self, commune: int) -> None:
        """After many records came at once: bring every kept summary of the commune up to date
        and store it, as the files write theirs on each snapshot, so no request starts at zero."""
        if self.kinds:
            for name, held in self._kept_all(commune, list(self.kinds)).items():
                self._values[(commune, name)] = held
