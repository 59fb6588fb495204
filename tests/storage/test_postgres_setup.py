"""PostgreSQL's setup: the schema through `flask --app wsgi db upgrade`, the per-process pool."""

from __future__ import annotations

import gc
import multiprocessing

import psycopg
import pytest

from survey import create_app
from survey.storage.errors import StorageUnavailable
from survey.storage.postgres import connection, migrate
from survey.storage.postgres.documents import PostgresDocumentSpace
from survey.storage.postgres.households import PostgresHouseholds
from tests.conftest import household


def test_db_upgrade_creates_the_schema_and_is_safe_to_run_again(empty_url, data_dir):
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test",
                      "SURVEY_DATABASE_URL": empty_url})
    assert migrate.current(empty_url) is None
    with pytest.raises(migrate.SchemaBehind, match="db upgrade"):
        migrate.require_current(empty_url)
    for _ in range(2):
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"at revision {migrate.head()}" in result.output
    migrate.require_current(empty_url)
    with connection.connect(empty_url) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"households", "household_communes", "household_tallies", "alembic_version"} <= tables


def test_an_app_on_a_database_not_yet_upgraded_answers_503_naming_the_command(empty_url, data_dir):
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", "SURVEY_DATABASE_URL": empty_url})
    # the accounts are in the database too: the token's lookup is what meets the old schema
    answer = app.test_client().get("/api/v1/households", headers={"Authorization": "Bearer bz_any"})
    assert answer.status_code == 503 and "flask --app wsgi db upgrade" in answer.get_json()["message"]


def test_db_upgrade_without_a_database_url_says_so(app):
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code != 0 and "SURVEY_DATABASE_URL is not set" in result.output


def test_a_url_that_is_not_postgresql_is_refused():
    assert connection.database_url({}) is None and connection.database_url({"SURVEY_DATABASE_URL": " "}) is None
    with pytest.raises(ValueError, match="postgresql://"):
        connection.database_url({"SURVEY_DATABASE_URL": "mysql://u:secret@h/db"})


def test_the_template_gives_each_test_an_empty_database_at_the_newest_schema(pg_url):
    assert migrate.current(pg_url) == migrate.head()
    with connection.pool(pg_url).connection() as conn:
        assert conn.execute("SELECT count(*) FROM households").fetchone()[0] == 0
        assert conn.execute("SHOW server_encoding").fetchone()[0] == "UTF8"


def _backend_pids(pool) -> set[int]:
    """The server sessions of every connection the pool holds now (all taken out at once)."""
    held = [pool.getconn() for _ in range(pool.get_stats()["pool_size"])]
    try:
        return {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for conn in held}
    finally:
        for conn in held:
            conn.rollback()
            pool.putconn(conn)


def _child(url: str, out) -> None:
    out.put(_backend_pids(connection.pool(url)))
    gc.collect()  # what the parent's pools would suffer if the child freed them


def test_a_forked_worker_opens_its_own_pool_and_leaves_the_parents_alone(pg_url):
    parents = _backend_pids(connection.pool(pg_url))
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child, args=(pg_url, out))
    child.start()
    child.join(30)
    assert child.exitcode == 0 and not out.get(timeout=5) & parents
    assert parents <= _backend_pids(connection.pool(pg_url))  # the same sessions, still alive


def _terminate_sessions(admin_url: str, url: str) -> int:
    """End every server session on ``url``'s database, as a restart or an administrator would."""
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return len(conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                                " WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchall())


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_request_after_the_sessions_were_ended_is_served(api, database, pg_server, make_household):
    assert api.post("/api/v1/households", make_household()).status_code == 201
    held = [connection.pool(database).getconn() for _ in range(3)]  # several idle sessions in the pool
    for conn in held:
        connection.pool(database).putconn(conn)
    assert _terminate_sessions(pg_server.admin_url, database) >= 3
    answer = api.get("/api/v1/households")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["total"] == 1
    assert api.post("/api/v1/households", make_household()).status_code == 201


@pytest.fixture
def unchecked(monkeypatch):
    """The pools made from here on hand out connections unchecked, as the socket poll does in
    the moment before a backend's end reaches its socket."""
    monkeypatch.setattr(connection, "_check", lambda conn: None)


def _end_idle_sessions(pg_server, url: str, count: int = 3) -> None:
    held = [connection.pool(url).getconn() for _ in range(count)]
    for conn in held:
        connection.pool(url).putconn(conn)
    assert _terminate_sessions(pg_server.admin_url, url) >= count


def test_reads_and_create_once_on_lost_sessions_are_done_again_and_store_once(unchecked, pg_url, pg_server):
    households, first, second = PostgresHouseholds(pg_url), household(), household()
    assert households.create_once(first) is None
    _end_idle_sessions(pg_server, pg_url)
    assert households.get(first["id"])["id"] == first["id"]
    _end_idle_sessions(pg_server, pg_url)
    assert households.create_once(second) is None
    _end_idle_sessions(pg_server, pg_url)
    assert households.create_once(second)["id"] == second["id"]  # stored once: the retry finds it
    assert households.count([4789]) == 2 and len(households.scan(4789)) == 2
    _end_idle_sessions(pg_server, pg_url)
    docs = PostgresDocumentSpace(pg_url).collection("settings", "settings")
    assert docs.get("campaign") is None


def test_a_write_on_a_lost_session_is_not_done_again(unchecked, pg_url, pg_server):
    """A write whose connection fails is answered 503 (the client retries), never repeated here."""
    households, record = PostgresHouseholds(pg_url), household()
    assert households.create_once(record) is None
    _end_idle_sessions(pg_server, pg_url, count=1)
    with pytest.raises(StorageUnavailable):
        households.remove(record)
    assert households.get(record["id"]) is not None and households.count([4789]) == 1


def test_a_connection_idle_a_while_gets_the_full_check(pg_url, monkeypatch):
    """Used a moment ago: no round trip to hand it out; idle longer than QUIET: one."""
    sent: list[str] = []
    original = psycopg.Connection.execute

    def execute(conn, query, *args, **kwargs):
        sent.append(query)
        return original(conn, query, *args, **kwargs)

    connection.pool(pg_url).wait()  # its connection opened (and set up) before we count
    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    # however long the pool's connections idled before this test (a loaded machine, a pool
    # made by an earlier test), "a moment ago" is what QUIET says it is
    monkeypatch.setattr(connection, "QUIET", 3600.0)
    with connection.lease(pg_url):
        pass
    with connection.lease(pg_url):
        pass
    assert sent == []
    monkeypatch.setattr(connection, "QUIET", 0.0)
    with connection.lease(pg_url):
        pass
    assert sent == [""]


def test_the_pool_s_connections_run_without_jit_compilation(pg_url):
    """A count over many matching rows would otherwise be compiled, slower than it runs."""
    with connection.pool(pg_url).connection() as conn:
        assert conn.execute("SHOW jit").fetchone()[0] == "off"
    with connection.connect(pg_url, autocommit=True) as conn:  # a one-off connection keeps the server's choice
        assert conn.execute("SHOW jit").fetchone()[0] == conn.execute("SELECT boot_val FROM pg_settings "
                                                                       "WHERE name = 'jit'").fetchone()[0]
