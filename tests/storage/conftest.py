"""Storage fixtures: household records on each backend, with the TinyDB files at hand."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from survey.households.records import HouseholdRecords
from survey.storage import TinyDBHouseholds, logged
from survey.storage.postgres.documents import PostgresDocumentSpace
from survey.storage.tinydb_documents import TinyDBDocumentSpace


class Store(HouseholdRecords):
    """Household records on the TinyDB backend, exposing its per-commune files to tests."""

    def __init__(self, data_dir: Path):
        super().__init__(TinyDBHouseholds(data_dir))

    def shard(self, commune_code: int):
        return self.backend.shard(commune_code)

    @property
    def root(self) -> Path:
        return self.backend.root

    def keep_summary(self, name, summary) -> None:
        self.backend.keep_summary(name, summary)


@pytest.fixture
def small_compactions(monkeypatch):
    """Compact the log after a few hundred bytes, so tests see many compactions."""
    monkeypatch.setattr(logged, "COMPACT_MIN_BYTES", 600)


def open_space(spec: tuple[str, str]):
    """The document space ``spec`` names: ("tinydb", data directory) or ("postgresql", URL)."""
    kind, where = spec
    if kind == "tinydb":
        return TinyDBDocumentSpace(Path(where))
    if kind == "postgresql":
        return PostgresDocumentSpace(where)
    raise ValueError(f"unknown document backend {kind!r}")


@pytest.fixture(params=["tinydb", "postgresql"])
def space_spec(request, tmp_path) -> tuple[str, str]:
    """An empty document space on each backend, as a spec another process can open too."""
    if request.param == "postgresql":
        return request.param, request.getfixturevalue("pg_url")
    return request.param, str(tmp_path / "documents")


@pytest.fixture
def empty_url(pg_server):
    """A database with no schema at all (not from the migrated template)."""
    name = f"bare_{os.getpid()}_{id(pg_server) % 10_000}"
    with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_server.url_of(name)
    yield url
    pg_server.drop(url)
