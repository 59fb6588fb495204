"""Households in PostgreSQL: one row a record, keyed by id, the same contract as the files.

Every write is one transaction that first locks its commune's row in ``household_communes``
(bumping its version and record count), then changes ``households``; a submission's is one
statement, a function on the server. The unique key on ``id`` decides create-once:
``INSERT ... ON CONFLICT DO NOTHING`` waits for a racing insert of the same id to commit or
roll back, so of racing submissions exactly one stores.
Counts come from the commune rows, aggregates from kept tallies (``kept``), the office's
list from a query on columns written with each record (``search``), exports from a
server-side cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg import Rollback

from ..errors import NotStored, StorageUnavailable
from ..interface import HouseholdBackend
from ..matching import Match
from ..tallies import KeptSummary
from . import connection, migrate, search
from .kept import KeptValues
from .search import search_columns
from .versions import CommuneVersions

__all__ = ["PostgresHouseholds"]

T = TypeVar("T")
EXPORT_BATCH = 2000  # rows a server-side cursor sends at a time
DEADLOCK_RETRIES = 3  # attempts of a bulk insert the server ended as a deadlock's victim

_CREATE = "SELECT household_create_once(%s, %s, %s::json, %s, %s)"
_BULK = """
    INSERT INTO households (id, commune_code, version, record, seq, search_text, hamlet_key) OVERRIDING SYSTEM VALUE
    SELECT id, %s, %s, record, seq, search_text, hamlet_key FROM (
        SELECT id, record, search_text, hamlet_key, nextval(pg_get_serial_sequence('households', 'seq')) AS seq
        FROM (SELECT id, record, search_text, hamlet_key FROM incoming ORDER BY n) AS arrived) AS numbered
    ORDER BY id ON CONFLICT (id) DO NOTHING"""

_BUMP = """
    INSERT INTO household_communes AS c (commune_code, version, records, rewritten)
    VALUES (%(commune)s, 1, greatest(%(added)s, 0), CASE WHEN %(rewrite)s THEN 1 ELSE 0 END)
    ON CONFLICT (commune_code) DO UPDATE
    SET version = c.version + 1, records = c.records + %(added)s,
        rewritten = CASE WHEN %(rewrite)s THEN c.version + 1 ELSE c.rewritten END
    RETURNING version"""


@contextmanager
def _unavailable() -> Iterator[None]:
    """A server that is down, unreachable or out of connections: StorageUnavailable (503).

    A ``Rollback`` reaches here only when the transaction could not roll back (psycopg logs
    the failure and lets the ``Rollback`` through): the connection was lost mid-way, and the
    transaction ended without storing anything."""
    try:
        yield
    except psycopg.OperationalError as exc:
        raise StorageUnavailable(f"the database is unavailable now: {str(exc).strip()}") from exc
    except Rollback as exc:
        raise StorageUnavailable("the database connection was lost; nothing was stored, try again") from exc


def _json(record: dict) -> str:
    return orjson.dumps(record).decode()


class PostgresHouseholds(HouseholdBackend):
    """Household records in the database at ``url`` (schema by ``flask --app wsgi db upgrade``)."""

    searches_itself = True

    def __init__(self, url: str):
        self.url = url
        self._checked = False
        self.kept = KeptValues(self._reading)
        self.versions = CommuneVersions(url, self._read)

    def _pool(self):
        pool = connection.pool(self.url)
        if not self._checked:
            migrate.require_current(self.url)
            self._checked = True
        return pool

    def _lease(self) -> AbstractContextManager[psycopg.Connection]:
        """This request's connection (``connection.lease``), the schema checked once first."""
        self._pool()
        return connection.lease(self.url)

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor]:
        """One write transaction; failures of the server become StorageUnavailable."""
        with _unavailable(), self._lease() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextmanager
    def _reading(self, snapshot: bool = False) -> Iterator[psycopg.Cursor]:
        """A cursor for reads, each statement on its own (the pool's connections autocommit);
        ``snapshot``: several statements in one transaction that see one moment."""
        with _unavailable(), self._lease() as conn:
            if not snapshot:
                with conn.cursor() as cur:
                    yield cur
                return
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            finally:
                conn.isolation_level = None

    def _read(self, work: Callable[[psycopg.Connection], T]) -> T:
        """A statement safe to run twice (a read, a create-once), done again on another
        connection if the first proves broken; no transaction of its own."""
        self._pool()
        with _unavailable():
            return connection.read(self.url, work)

    def _bump(self, cur: psycopg.Cursor, commune: int, added: int, rewrite: bool) -> int:
        """Lock the commune's row for this transaction; its new version."""
        cur.execute(_BUMP, {"commune": commune, "added": added, "rewrite": rewrite})
        return cur.fetchone()[0]

    @staticmethod
    def _add(cur: psycopg.Cursor, commune: int, added: int) -> None:
        """Change the commune's count (its row is locked already)."""
        cur.execute("UPDATE household_communes SET records = records + %s WHERE commune_code = %s",
                    (added, commune))

    def create_once(self, record: dict) -> dict | None:
        """Insert unless the id is stored anywhere (the unique key decides); else the stored one.

        One round trip: ``household_create_once`` (migration 0003) locks and bumps the
        commune's row and inserts, as one statement that is its own transaction. Done again on
        a connection found broken: had the first stored it after all, the second finds it stored
        and answers it (the client's retry of a submission, answered 200, never a copy)."""
        key, commune = record["id"], int(record["commune_code"])
        values = (key, commune, _json(record), *search_columns(record))
        self.versions.wrote()
        for _ in range(3):  # a record removed between our conflict and our read: try again
            stored = self._read(lambda conn: conn.execute(_CREATE, values).fetchone()[0])
            if stored:
                return None
            existing = self.get(key)
            if existing is not None:
                return existing
        raise StorageUnavailable(f"household {key} keeps changing; try again")

    def replace(self, record: dict, previous_commune: int) -> None:
        """One transaction; a move takes both communes' rows in code order (no deadlock)."""
        key, commune, previous = record["id"], int(record["commune_code"]), int(previous_commune)
        self.versions.wrote()
        with self._transaction() as cur:
            versions = {code: self._bump(cur, code, (code == commune) - (code == previous), code == previous)
                        for code in sorted({commune, previous})}
            order = ", seq = DEFAULT" if commune != previous else ""  # a moved record comes last
            cur.execute(f"UPDATE households SET commune_code = %s, version = %s, record = %s,"
                        f" search_text = %s, hamlet_key = %s{order} WHERE id = %s AND commune_code = %s",
                        (commune, versions[commune], _json(record), *search_columns(record), key, previous))
            if cur.rowcount != 1:  # the versions bumped above roll back with it
                raise NotStored(f"household {key} is not stored in commune {previous}")

    def remove(self, record: dict) -> bool:
        """Delete one record; False (nothing changed) if it was not stored."""
        commune = int(record["commune_code"])
        self.versions.wrote()
        with self._transaction() as cur:
            self._bump(cur, commune, 0, rewrite=True)
            cur.execute("DELETE FROM households WHERE id = %s AND commune_code = %s", (record["id"], commune))
            if cur.rowcount != 1:
                raise Rollback()
            self._add(cur, commune, -1)
            return True
        return False

    def get(self, record_id: str) -> dict | None:
        """By primary key."""
        row = self._read(lambda conn: conn.execute("SELECT record FROM households WHERE id = %s",
                                                   (record_id,)).fetchone())
        return None if row is None else row[0]

    def stored_among(self, commune_code: int, ids: Iterable[str]) -> dict[str, dict]:
        """One query by primary key for a whole batch (not a round trip an id, nor the commune)."""
        rows = self._read(lambda conn: conn.execute("SELECT id, record FROM households WHERE id = ANY(%s)",
                                                    (list(ids),)).fetchall())
        return dict(rows)

    def scan(self, commune_code: int, cache: bool = True) -> list[dict]:
        """The commune's records in insertion order (by its index on commune and order)."""
        with self._reading() as cur:
            cur.execute("SELECT record FROM households WHERE commune_code = %s ORDER BY seq", (int(commune_code),))
            return [row[0] for row in cur]

    def records(self, communes: Iterable[int]) -> Iterator[dict]:
        """Every record of ``communes`` as of one moment, streamed from a server-side cursor:
        the worker holds one batch, never the table."""
        self._pool()
        with connection.lease(self.url, keep=False) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction():
                    for code in communes:
                        with conn.cursor(name="households_export") as cur:
                            cur.itersize = EXPORT_BATCH
                            cur.execute("SELECT record FROM households WHERE commune_code = %s ORDER BY seq",
                                        (int(code),))
                            for row in cur:
                                yield row[0]
            finally:
                conn.isolation_level = None

    def count(self, communes: Iterable[int]) -> int:
        """From the kept per-commune counts: one indexed read, no count over the records."""
        with self._reading() as cur:
            row = cur.execute("SELECT coalesce(sum(records), 0) FROM household_communes"
                              " WHERE commune_code = ANY(%s)", ([int(c) for c in communes],)).fetchone()
        return int(row[0])

    def change_token(self, communes: Iterable[int]) -> tuple:
        """The versions of ``communes`` (bumped in every write's transaction): one indexed read,
        so an answer kept by any host's worker is reused only while no host wrote there (read
        once a request: ``versions``)."""
        return self.versions.of(communes)

    def find(self, match: Match, skip: int, limit: int) -> tuple[int, list[dict]]:
        """A page of the office's list by a query on the searched columns (``search``); no
        worker builds or holds a search index."""
        with self._reading(snapshot=True) as cur:
            return search.find(cur, match, skip, limit)

    def keep_summary(self, name: str, summary: KeptSummary) -> None:
        """Keep ``summary`` of each commune in ``household_tallies``, added to as records come."""
        self.kept.kinds[name] = summary

    def derived(self, commune_code: int, name: str, compute: Callable[[list[dict]], Any]) -> Any:
        """A kept summary, or ``compute`` over the commune, recomputed only when it changed."""
        return self.kept.value(int(commune_code), name, compute)

    def derived_many(self, communes: Iterable[int], name: str,
                     compute: Callable[[list[dict]], Any]) -> dict[int, Any]:
        """Every commune's value, their versions read in one query (a province is 151 communes)."""
        codes = [int(c) for c in communes]
        return self.kept.values(codes, name, compute, dict(self.versions.of(codes)))

    def bulk_insert(self, commune_code: int, records: list[dict]) -> int:
        """COPY into a temporary table, then one INSERT; ids stored anywhere are skipped by the
        unique key. A deadlock that slips through anyway is retried, a bounded number of times."""
        if not records:
            return 0
        self.versions.wrote()
        for attempt in range(DEADLOCK_RETRIES):
            try:
                added = self._bulk_insert(int(commune_code), records)
            except StorageUnavailable as exc:
                if not isinstance(exc.__cause__, psycopg.errors.DeadlockDetected) or attempt == DEADLOCK_RETRIES - 1:
                    raise
                continue
            if added:
                self.kept.refresh(int(commune_code))
            return added
        return 0  # not reached: the last attempt returns or raises

    def _bulk_insert(self, commune: int, records: list[dict]) -> int:
        """Rows are inserted in id order, so two imports sharing ids wait for each other in one
        order and never in a cycle; ``seq`` is drawn in the batch's order first, so the commune
        still reads its records in the order they came."""
        with self._transaction() as cur:
            version = self._bump(cur, commune, 0, rewrite=False)
            cur.execute("CREATE TEMPORARY TABLE incoming (n integer, id text, record json, search_text text,"
                        " hamlet_key text) ON COMMIT DROP")
            with cur.copy("COPY incoming (n, id, record, search_text, hamlet_key) FROM STDIN") as copy:
                for n, record in enumerate(records):
                    copy.write_row((n, record["id"], _json(record), *search_columns(record)))
            cur.execute(_BULK, (commune, version))
            added = cur.rowcount
            if added == 0:
                raise Rollback()
            self._add(cur, commune, added)
            return added
        return 0

    def is_empty(self) -> bool:
        """No record in the table."""
        with self._reading() as cur:
            return not cur.execute("SELECT EXISTS (SELECT 1 FROM households)").fetchone()[0]

    def backup_files(self, communes: Iterable[int]) -> dict[str, Any]:
        """None: the database is backed up by PostgreSQL's own tools (pg_dump, base backups)."""
        return {}

    def file_for(self, rel: str) -> Any | None:
        """No file of the data directory is the database's."""
        return None

    def restored(self) -> None:
        """Nothing kept in files here; forget what this process derived."""
        self.kept.forget()
