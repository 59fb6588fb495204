"""Storage: the one place that keeps the campaign's data.

- ``interface.HouseholdBackend``: what household storage offers the service (create once,
  replace, remove, get, scan a commune, tallies, its files for backup and restore).
- ``tinydb_households.TinyDBHouseholds``: the embedded default, TinyDB files on one disk.
- ``postgres``: the same in PostgreSQL, when ``SURVEY_DATABASE_URL`` names a database.
- ``documents``: what every other store keeps (accounts, tokens, settings, agencies and their
  reports, history, review flags, the account log, login attempts, the session key): JSON
  documents by key in named collections, behind ``DocumentStore`` / ``DocumentSpace``;
  ``open_documents`` picks the implementation.
- ``collection.Collection``: one TinyDB file with a keyed table, written atomically
  (``files``), read through a per-process cache (``cache``), locked across processes: the
  embedded ``DocumentStore`` (``tinydb_documents`` maps collection names to files).
- ``logged``, ``changelog``, ``idindex``, ``claims``, ``tallies``: the parts that keep a
  submission's cost flat: a per-commune change log, id hashes, province-wide id claims and
  per-commune tallies kept beside each file.

Views and exports never touch files: they go through these classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .collection import AtomicJSONStorage, Collection
from .documents import Documents, DocumentSpace, DocumentStore
from .errors import NotStored, StorageUnavailable
from .files import read_revision, write_atomically
from .interface import HouseholdBackend
from .tallies import KeptSummary
from .tinydb_documents import TinyDBDocumentSpace
from .tinydb_households import TinyDBHouseholds

__all__ = ["AtomicJSONStorage", "Collection", "DocumentSpace", "DocumentStore", "Documents", "HouseholdBackend",
           "KeptSummary", "NotStored", "StorageUnavailable", "TinyDBHouseholds", "open_documents", "open_households",
           "read_revision", "write_atomically"]


def open_households(data_dir: Path, database_url: str | None = None) -> HouseholdBackend:
    """The household backend the configuration selects: PostgreSQL at ``database_url``, else
    TinyDB in the data directory."""
    if database_url:
        from .postgres.households import PostgresHouseholds  # psycopg only when it is used
        return PostgresHouseholds(database_url)
    return TinyDBHouseholds(data_dir)


def open_documents(config: Mapping[str, Any]) -> DocumentSpace:
    """Where the configuration keeps accounts, settings and the other documents: the database
    SURVEY_DATABASE_URL names, else the data directory's files."""
    from .postgres.url import database_url
    url = database_url(config)
    if url is None:
        return TinyDBDocumentSpace(Path(config["SURVEY_DATA_DIR"]).resolve())
    from .postgres.documents import PostgresDocumentSpace
    return PostgresDocumentSpace(url)
