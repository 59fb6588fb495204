"""A PostgreSQL server for the tests: a throwaway cluster, or the one SURVEY_TEST_DATABASE_URL names.

The throwaway cluster lives in a temporary directory for one run, listens only on a Unix
socket there, and trades durability for speed (fsync off). PostgreSQL refuses to run as
root, so as root it runs as the ``postgres`` user (Debian's package creates it). One
database is migrated once per run and used as the template of each test's fresh database.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from survey.storage.postgres import connection, migrate

__all__ = ["TestServer", "throwaway_cluster", "with_database"]


def _binary(name: str) -> str:
    """``initdb`` / ``pg_ctl``: on PATH, else from Debian's versioned directory."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if found is None:
        raise RuntimeError(f"{name} not found: `make postgres` installs Debian's postgresql, "
                           "or set SURVEY_TEST_DATABASE_URL to a server the tests may create databases on")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(args: list[str]) -> list[str]:
    """Run as ``postgres`` when we are root (PostgreSQL will not run as root)."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def throwaway_cluster(durable: bool = False) -> Iterator[str]:
    """Start a cluster in a temporary directory; yield its URL; stop and delete it.
    Tests want speed (no fsync); a benchmark wants PostgreSQL as deployed (``durable``)."""
    root = Path(tempfile.mkdtemp(prefix="survey-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, port = root / "data", _free_port()
    subprocess.run(_as_owner([_binary("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                              "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses='' -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(_as_owner([_binary("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                              "-o", options, "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@/postgres?host={root}&port={port}"
    finally:
        subprocess.run(_as_owner([_binary("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


class TestServer:
    """A server the tests own databases on: a migrated template, then one copy per test."""

    __test__ = False

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.run = uuid.uuid4().hex[:8]
        self.template = f"survey_template_{self.run}"
        self._admin(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(self.template)))
        migrate.upgrade(self.url_of(self.template))

    def _admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def url_of(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return with_database(self.admin_url, name)

    def fresh(self) -> str:
        """A new database at the newest schema, empty; its URL."""
        name = f"survey_{self.run}_{uuid.uuid4().hex[:10]}"
        self._admin(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(self.template)))
        return self.url_of(name)

    def drop(self, url: str) -> None:
        """Drop a database made by ``fresh`` (this process's pool on it closed first)."""
        connection.close_pool(url)
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        """Drop the template (the databases of tests are dropped one by one)."""
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.template)))
