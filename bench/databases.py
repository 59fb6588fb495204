"""PostgreSQL for ``--backend postgresql`` (or both): one fresh, migrated database per size.

Without ``--database-url`` the run starts its own cluster in a temporary directory, with
PostgreSQL's durable defaults (fsync and synchronous commit on), unlike the tests' cluster.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from survey.storage.postgres import connection, migrate
from tests.postgres import throwaway_cluster, with_database

__all__ = ["BenchDatabases"]


class BenchDatabases:
    """Databases ``bench_<size>`` on one server."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url

    @classmethod
    @contextmanager
    def for_backend(cls, backends: Collection[str], url: str | None) -> Iterator[BenchDatabases | None]:
        """None for TinyDB alone; else the server at ``url`` or a throwaway durable cluster."""
        if "postgresql" not in backends:
            yield None
        elif url:
            yield cls(url)
        else:
            with throwaway_cluster(durable=True) as admin_url:
                yield cls(admin_url)

    def _admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def fresh(self, size: int) -> str:
        """An empty database at the newest schema for one size; its URL."""
        self.drop(size)
        self._admin(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(f"bench_{size}")))
        url = with_database(self.admin_url, f"bench_{size}")
        migrate.upgrade(url)
        return url

    def drop(self, size: int) -> None:
        """Drop one size's database."""
        connection.close_pool(with_database(self.admin_url, f"bench_{size}"))
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(f"bench_{size}")))
