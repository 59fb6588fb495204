"""What only the PostgreSQL backend has to show: streaming exports, tallies kept in the database."""

from __future__ import annotations

import uuid

import pytest

from survey.storage import KeptSummary, StorageUnavailable
from survey.storage.postgres import connection, households
from survey.storage.postgres.households import PostgresHouseholds


def rec(commune: int = 4789, **changes) -> dict:
    return {"id": str(uuid.uuid4()), "commune_code": commune, "hamlet": "Xóm Mới", **changes}


def test_an_export_is_streamed_from_a_server_side_cursor(pg_url, monkeypatch):
    """The first rows arrive while the server still holds the rest: the worker never loads the table."""
    monkeypatch.setattr(households, "EXPORT_BATCH", 10)
    store = PostgresHouseholds(pg_url)
    store.bulk_insert(4789, [rec(4789) for _ in range(95)])
    store.bulk_insert(4792, [rec(4792) for _ in range(5)])
    stream = store.records([4789, 4792])
    first = next(stream)
    with connection.connect(pg_url) as conn:
        fetching = conn.execute("SELECT query FROM pg_stat_activity WHERE datname = current_database()"
                                " AND pid <> pg_backend_pid() AND query LIKE 'FETCH FORWARD 10 %%'").fetchall()
    assert fetching, "no FETCH of a batch of 10 from a named cursor"
    rest = list(stream)
    assert first["commune_code"] == 4789 and len(rest) == 99 and rest[-1]["commune_code"] == 4792


def test_an_abandoned_export_gives_its_connection_back(pg_url):
    store = PostgresHouseholds(pg_url)
    store.bulk_insert(4789, [rec() for _ in range(30)])
    for _ in range(connection.POOL_SIZE + 2):
        stream = store.records([4789])
        next(stream)
        stream.close()
    assert store.count([4789]) == 30  # the pool was not drained by the abandoned streams


def _counting(calls: list) -> KeptSummary:
    def tally(records):
        calls.append(len(records))
        return len(records)
    return KeptSummary(tally=tally, merge=lambda a, b: a + b, finish=lambda n: n, version="n1")


def test_a_new_worker_adds_only_the_records_written_since_the_kept_tally(pg_url, monkeypatch):
    first, calls = PostgresHouseholds(pg_url), []
    first.keep_summary("n", _counting(calls))
    first.bulk_insert(4789, [rec() for _ in range(200)])
    assert first.derived(4789, "n", None) == 200 and calls == [200]  # counted once, and stored
    first.create_once(rec())
    worker, calls[:] = PostgresHouseholds(pg_url), []
    worker.keep_summary("n", _counting(calls))
    assert worker.derived(4789, "n", None) == 201 and calls == [1]
    assert worker.derived(4789, "n", None) == 201 and calls == [1]  # held while nothing changed


def test_a_tally_of_another_shape_is_not_used(pg_url, monkeypatch):
    store, calls = PostgresHouseholds(pg_url), []
    store.keep_summary("n", _counting(calls))
    store.bulk_insert(4789, [rec() for _ in range(7)])
    assert store.derived(4789, "n", None) == 7
    changed = PostgresHouseholds(pg_url)
    changed.keep_summary("n", KeptSummary(tally=lambda rs: [len(rs)], merge=lambda a, b: [a[0] + b[0]],
                                           finish=lambda t: t, version="n2"))
    assert changed.derived(4789, "n", None) == [7]


def test_a_server_that_is_gone_is_storage_unavailable(pg_server, monkeypatch):
    url = pg_server.fresh()
    store = PostgresHouseholds(url)
    store.create_once(rec())
    monkeypatch.setattr(connection, "WAIT", 2)
    pg_server.drop(url)
    with pytest.raises(StorageUnavailable, match="database"):
        store.create_once(rec())
    with pytest.raises(StorageUnavailable, match="database"):
        store.get("any")
    connection.close_pool(url)


def test_a_rollback_that_could_not_run_answers_storage_unavailable_not_500():
    """psycopg lets a ``Rollback`` through when the connection died before it could roll back
    (a terminated backend): the caller must get a 503 to retry, not an unhandled error."""
    from psycopg import Rollback

    from survey.storage import StorageUnavailable
    from survey.storage.postgres.households import _unavailable

    with pytest.raises(StorageUnavailable, match="nothing was stored"), _unavailable():
        raise Rollback()
