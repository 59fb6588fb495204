"""Documents in PostgreSQL: every collection is rows of the ``documents`` table (0002_documents).

Any app host sharing the database sees every change at once (no per-process cache). An
``update()`` block runs in one transaction that first takes a transaction-scoped advisory
lock named after its collection: writers of one collection take turns, as they do on the
file lock of TinyDB, so a read-modify-write (the login throttle's count and check, a new
account's "exists already", an agency report's next version) cannot interleave with
another. The transaction commits when the block ends and rolls back if it raises, so a
killed worker or backend leaves either all of a block's changes or none of them. Readers
never wait for the lock. ``seq`` keeps each collection in insertion order, as TinyDB does.
A small collection most requests read (the campaign's settings) comes with a request's first
read (a token and its account, or a session's account), in the same statement, and its reads
are answered from that until the request ends or writes to it (``read_along``).
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from psycopg.types.json import Json

from ..documents import Documents, DocumentSpace, DocumentStore
from ..errors import StorageUnavailable
from . import migrate
from .connection import lease, read, request_notes

__all__ = ["CollectionRows", "PostgresCollection", "PostgresDocumentSpace"]

T = TypeVar("T")
SECRET = ("secret", "session")  # (collection, key) of the session-signing key
_ALONG_READ = "documents read along"  # in a request's notes: done

_GET = "SELECT doc FROM documents WHERE collection = %s AND key = %s"
_ALL = "SELECT key, doc FROM documents WHERE collection = %s ORDER BY seq"
_PUT = ("INSERT INTO documents (collection, key, doc) VALUES (%s, %s, %s) "
        "ON CONFLICT (collection, key) DO UPDATE SET doc = EXCLUDED.doc")
_PAIR = ("SELECT d.doc, o.doc FROM documents d LEFT JOIN documents o ON o.collection = %s AND o.key = d.doc->>%s"
         " WHERE d.collection = %s AND d.key = %s")
# the same, one row even when there is no document, with the documents of the collections read
# along (``read_along``) as [collection, key, doc] in their order; the names go as the text of an
# array, '{"settings"}', no list to dump on every request (one flat aggregate: a nested one per
# collection cost the server five times the pair's own time)
_PAIR_ALONG = ("SELECT d.doc, o.doc, (SELECT json_agg(json_build_array(a.collection, a.key, a.doc) ORDER BY a.seq)"
               " FROM documents a WHERE a.collection = ANY(%s::text[])) FROM (VALUES (1)) one"
               " LEFT JOIN documents d ON d.collection = %s AND d.key = %s"
               " LEFT JOIN documents o ON o.collection = %s AND o.key = d.doc->>%s")
# one document and the collections read along, for a request whose first read is a plain get
# (a session's account: the phone's submission, every signed-in page)
_GET_ALONG = ("SELECT d.doc, (SELECT json_agg(json_build_array(a.collection, a.key, a.doc) ORDER BY a.seq)"
              " FROM documents a WHERE a.collection = ANY(%s::text[])) FROM (VALUES (1)) one"
              " LEFT JOIN documents d ON d.collection = %s AND d.key = %s")
_DELETE = "DELETE FROM documents WHERE collection = %s AND key = %s RETURNING 1"
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"


class CollectionRows(Documents):
    """A collection's rows, read and written on one connection (inside ``update()``: under its lock)."""

    def __init__(self, conn: psycopg.Connection, name: str):
        self.conn, self.name = conn, name

    def get(self, key: str) -> dict | None:
        row = self.conn.execute(_GET, (self.name, key)).fetchone()
        return row[0] if row else None

    def put(self, key: str, doc: dict) -> None:
        self.conn.execute(_PUT, (self.name, key, Json(doc)))

    def remove(self, key: str) -> bool:
        return self.conn.execute(_DELETE, (self.name, key)).fetchone() is not None

    def all(self) -> dict[str, dict]:
        return dict(self.conn.execute(_ALL, (self.name,)).fetchall())


class PostgresCollection(DocumentStore):
    """One named collection in the ``documents`` table."""

    def __init__(self, space: PostgresDocumentSpace, name: str, table: str):
        self.space, self.name, self.table = space, name, table

    def documents(self) -> dict[str, dict]:
        noted = self.space.noted(self.name)
        if noted is not None:
            return noted
        return self.space.read(lambda conn: CollectionRows(conn, self.name).all())

    def get(self, key: str) -> dict | None:
        noted = self.space.noted(self.name)
        if noted is not None:
            return copy.deepcopy(noted.get(key))
        along = self.space.along_now()
        if along:  # the request's first read: the collections read along come with it
            row = self.space.read(lambda conn: conn.execute(_GET_ALONG, (along, self.name, key)).fetchone())
            self.space.note(row[1])
            return row[0]
        return self.space.read(lambda conn: CollectionRows(conn, self.name).get(key))

    def get_with(self, key: str, other: DocumentStore, field: str) -> tuple[dict | None, dict | None]:
        """One statement: the document joined with the one of ``other`` it names (and, the
        first time in a request, the collections read along)."""
        if not isinstance(other, PostgresCollection) or other.space is not self.space:
            return super().get_with(key, other, field)
        along = self.space.along_now()
        if along:
            row = self.space.read(lambda conn: conn.execute(_PAIR_ALONG,
                                                            (along, self.name, key, other.name, field)).fetchone())
            self.space.note(row[2])
            return row[0], row[1]
        row = self.space.read(lambda conn: conn.execute(_PAIR, (other.name, field, self.name, key)).fetchone())
        return (None, None) if row is None else (row[0], row[1])

    @contextmanager
    def update(self) -> Iterator[Documents]:
        self.space.forget_noted(self.name)
        with self.space.connection() as conn:
            conn.execute(_LOCK, ("documents:" + self.name,))
            yield CollectionRows(conn, self.name)


class PostgresDocumentSpace(DocumentSpace):
    """The collections of the database at ``url``, through this process's pool."""

    def __init__(self, url: str):
        self.url = url
        self._checked = False  # the schema is at this release's revision (else SchemaBehind, a 503)
        self._along: list[str] = []
        self._along_names = ""  # the same, as the text of an array

    def read_along(self, name: str) -> None:
        """Read the small collection ``name`` with a request's token and account, in the same
        statement, and answer its reads from that for the rest of the request."""
        if name not in self._along:
            self._along.append(name)
            self._along_names = "{" + ",".join('"' + n.replace("\\", "\\\\").replace('"', '\\"') + '"'
                                               for n in self._along) + "}"

    def along_now(self) -> str:
        """The collections to read along now, as the text of an array: none ("") outside a
        request or once read in this one."""
        notes = request_notes()
        return "" if notes is None or (self.url, _ALONG_READ) in notes else self._along_names

    def note(self, found: list[list] | None) -> None:
        """Keep the collections read along, from their [collection, key, doc] rows, for the
        rest of this request (a collection with no document: empty)."""
        notes = request_notes()
        if notes is not None:
            notes[(self.url, _ALONG_READ)] = True
            collections: dict[str, dict[str, dict]] = {name: {} for name in self._along}
            for name, key, doc in found or ():
                collections[name][key] = doc
            notes.update({(self.url, name): docs for name, docs in collections.items()})

    def noted(self, name: str) -> dict[str, dict] | None:
        """The documents of ``name`` read along in this request, if they were."""
        notes = request_notes()
        return None if notes is None else notes.get((self.url, name))

    def forget_noted(self, name: str) -> None:
        """``name`` is being written: its later reads in this request go to the database."""
        notes = request_notes()
        if notes is not None:
            notes.pop((self.url, name), None)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection in a transaction: committed on a clean exit, else rolled back."""
        with self._unavailable(), lease(self.url) as conn, conn.transaction():
            yield conn

    def read(self, work: Callable[[psycopg.Connection], T]) -> T:
        """A read with no transaction (a single statement needs no BEGIN and COMMIT, two
        round trips more than itself), done again if its connection proves broken."""
        with self._unavailable():
            return read(self.url, work)

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        """A schema behind this release is SchemaBehind (503 naming the command); a lost
        server or backend is StorageUnavailable (503: the client retries)."""
        try:
            if not self._checked:
                migrate.require_current(self.url)
                self._checked = True
            yield
        except psycopg.OperationalError as exc:  # no server detail in the answer
            raise StorageUnavailable("the database is unavailable, try again") from exc

    def collection(self, name: str, table: str) -> DocumentStore:
        return PostgresCollection(self, name, table)

    def names(self, prefix: str) -> list[str]:
        rows = self.read(lambda conn: conn.execute("SELECT DISTINCT collection FROM documents"
                                                   " WHERE starts_with(collection, %s) ORDER BY collection",
                                                   (prefix,)).fetchall())
        return [r[0] for r in rows]

    def secret_key(self) -> str:
        """Made once by whichever host or worker gets there first; every other one reads it."""
        with self.connection() as conn:
            conn.execute("INSERT INTO documents (collection, key, doc) VALUES (%s, %s, %s) "
                         "ON CONFLICT (collection, key) DO NOTHING",
                         (*SECRET, Json({"key": secrets.token_urlsafe(48)})))
            return conn.execute(_GET, SECRET).fetchone()[0]["key"]

    def adopt_secret_key(self, key: str) -> None:
        with self.connection() as conn:
            conn.execute(_PUT, (*SECRET, Json({"key": key})))
