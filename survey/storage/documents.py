"""What every store besides households keeps: small JSON documents by key, in named collections.

Accounts, tokens, settings, agencies and their reports, review flags, history, the account
log and the login-throttle counters are each a collection of documents keyed by a string.
The stores only use the contract below, so the same code runs on the embedded TinyDB files
(``collection.Collection``) and on PostgreSQL (``postgres.documents``): any app host
sharing the database then answers any request.

A read-modify-write goes through ``update()``: the block sees the collection as it is,
changes it through a plain keyed mapping, and every change is stored at once when the block
ends without an exception (none of them if it raises). Writers of one collection wait for
each other; readers never wait.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager

__all__ = ["Documents", "DocumentStore", "DocumentSpace", "MemoryDocuments", "copy_documents"]


class Documents(ABC):
    """The documents of one collection inside an ``update()`` block."""

    @abstractmethod
    def get(self, key: str) -> dict | None:
        """One document (a copy the caller may change), or None."""

    @abstractmethod
    def put(self, key: str, doc: dict) -> None:
        """Insert or replace one document."""

    @abstractmethod
    def remove(self, key: str) -> bool:
        """Delete one document; False if there was none."""

    @abstractmethod
    def all(self) -> dict[str, dict]:
        """Every document by key (copies)."""

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


class MemoryDocuments(Documents):
    """A keyed mapping held in memory that remembers whether it was changed."""

    def __init__(self, docs: dict[str, dict]):
        self.docs = docs
        self.changed = False

    def get(self, key: str) -> dict | None:
        doc = self.docs.get(key)
        return dict(doc) if doc is not None else None

    def put(self, key: str, doc: dict) -> None:
        self.docs[key] = dict(doc)
        self.changed = True

    def remove(self, key: str) -> bool:
        if self.docs.pop(key, None) is None:
            return False
        self.changed = True
        return True

    def all(self) -> dict[str, dict]:
        return {key: dict(doc) for key, doc in self.docs.items()}


class DocumentStore(ABC):
    """One named collection of documents keyed by strings (``table``: its TinyDB table)."""

    name: str
    table: str

    @abstractmethod
    def documents(self) -> dict[str, dict]:
        """Every document by key; callers must not change the dicts (they may be cached)."""

    @abstractmethod
    def get(self, key: str) -> dict | None:
        """One document (a copy), or None."""

    def get_with(self, key: str, other: DocumentStore, field: str) -> tuple[dict | None, dict | None]:
        """One document and the document of ``other`` keyed by its ``field`` (None, None when
        there is none): a bearer token and its account, read on every API request, which a
        database answers in one round trip."""
        doc = self.get(key)
        named = doc.get(field) if doc is not None else None
        return doc, other.get(named) if isinstance(named, str) else None

    @abstractmethod
    def update(self) -> AbstractContextManager[Documents]:
        """A read-modify-write: the changes made in the block are stored atomically on exit."""

    def put(self, key: str, doc: dict) -> None:
        """Insert or replace one document."""
        with self.update() as docs:
            docs.put(key, doc)

    def delete(self, key: str) -> bool:
        """Delete one document; False if there was none."""
        with self.update() as docs:
            return docs.remove(key)


class DocumentSpace(ABC):
    """Where a campaign's collections live: a data directory or a database.

    Collection names are paths without a suffix (``users``, ``history/3f``): on TinyDB each
    is the file ``<name>.json`` in the data directory, as it always was.
    """

    @abstractmethod
    def collection(self, name: str, table: str) -> DocumentStore:
        """The collection ``name`` (``table`` is the table inside a TinyDB file)."""

    @abstractmethod
    def names(self, prefix: str) -> list[str]:
        """The names of the collections that exist under ``prefix`` (``history/``), sorted."""

    @abstractmethod
    def secret_key(self) -> str:
        """The session-signing key every worker and host shares, made once on first use."""

    @abstractmethod
    def adopt_secret_key(self, key: str) -> None:
        """Make ``key`` the session-signing key (a copy from another space: sessions signed
        there stay valid here, so nobody signs in again after the storage moved)."""

    def read_along(self, name: str) -> None:
        """The small collection ``name`` is read by most requests: a database may fetch it
        with a request's first read (files are read from memory anyway, so nothing here)."""

    def iter_collections(self, prefix: str, table: str) -> Iterator[DocumentStore]:
        """Every existing collection under ``prefix``."""
        for name in self.names(prefix):
            yield self.collection(name, table)


def copy_documents(stores: Iterable[DocumentStore], target: DocumentSpace) -> int:
    """Make each collection of ``target`` named like one of ``stores`` hold what that store
    holds (documents only the target has are left); how many documents were written.

    Each collection is written in one ``update()``: safe to run again, and a copy stopped
    half-way leaves every collection either as it was or whole.
    """
    written = 0
    for store in stores:
        docs = store.documents()
        with target.collection(store.name, store.table).update() as held:
            for key, doc in docs.items():
                if held.get(key) != doc:
                    held.put(key, doc)
                    written += 1
    return written
