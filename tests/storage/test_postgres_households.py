"""What only the PostgreSQL backend has to show: streaming exports, tallies kept in the database."""

from __future__ import annotations

import threading
import uuid

import psycopg
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


def test_a_held_tally_adds_the_records_since_and_an_edit_recounts(pg_url):
    """Held: the version and the new records in one statement; after an edit or a removal of
    an earlier record, the tally is counted again from the commune's records."""
    store, calls = PostgresHouseholds(pg_url), []
    store.keep_summary("n", _counting(calls))
    first = [rec() for _ in range(50)]
    store.bulk_insert(4789, first)
    assert store.derived(4789, "n", None) == 50
    store.create_once(rec())
    store.create_once(rec())
    calls[:] = []
    assert store.derived(4789, "n", None) == 52 and calls == [2]
    store.remove(first[0])
    store.create_once(rec())
    calls[:] = []
    assert store.derived(4789, "n", None) == 52 and calls == [52]
    calls[:] = []
    assert store.derived_many([4789, 4792], "n", None) == {4789: 52, 4792: 0} and calls == [0]


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


def _import_at_once(url: str, batches: dict[int, list[dict]]) -> dict[int, int | Exception]:
    """Bulk-insert each commune's batch from its own thread, all started together."""
    start, done = threading.Barrier(len(batches)), {}

    def run(commune: int, batch: list[dict]) -> None:
        store = PostgresHouseholds(url)
        start.wait()
        try:
            done[commune] = store.bulk_insert(commune, batch)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            done[commune] = exc
    threads = [threading.Thread(target=run, args=item) for item in batches.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return done


def test_imports_of_overlapping_ids_into_two_communes_at_once_both_finish(pg_url):
    """Each batch holds the other's ids in the opposite order: inserted as they come, the two
    transactions would each wait for the other's uncommitted ids (a deadlock, one answered 503)."""
    store = PostgresHouseholds(pg_url)
    for _ in range(3):
        ids = [str(uuid.uuid4()) for _ in range(3000)]
        batches = {4789: [rec(4789, id=key) for key in ids], 4831: [rec(4831, id=key) for key in reversed(ids)]}
        done = _import_at_once(pg_url, batches)
        assert not [v for v in done.values() if isinstance(v, Exception)], done
        assert sum(done.values()) == 3000
        for commune, batch in batches.items():  # each commune keeps its batch's order
            order = {r["id"]: n for n, r in enumerate(batch)}
            kept = [order[r["id"]] for r in store.scan(commune)[-done[commune]:]] if done[commune] else []
            assert kept == sorted(kept) and store.count([commune]) == len(store.scan(commune))
    assert store.count([4789, 4831]) == 9000


def _deadlock() -> StorageUnavailable:
    """What the backend raises when the server ended its transaction to break a deadlock."""
    try:
        raise StorageUnavailable("deadlock") from psycopg.errors.DeadlockDetected("deadlock detected")
    except StorageUnavailable as exc:
        return exc


def test_a_bulk_insert_chosen_as_a_deadlock_victim_is_tried_again(pg_url, monkeypatch):
    store, tries = PostgresHouseholds(pg_url), []
    first = store._bulk_insert

    def ended_once(commune, records):
        tries.append(commune)
        if len(tries) == 1:
            raise _deadlock()
        return first(commune, records)
    monkeypatch.setattr(store, "_bulk_insert", ended_once)
    assert store.bulk_insert(4789, [rec() for _ in range(5)]) == 5 and tries == [4789, 4789]

    def always_ended(commune, records):
        tries.append(commune)
        raise _deadlock()
    tries.clear()
    monkeypatch.setattr(store, "_bulk_insert", always_ended)
    with pytest.raises(StorageUnavailable, match="deadlock"):  # every attempt ended: the caller hears it
        store.bulk_insert(4789, [rec()])
    assert len(tries) == households.DEADLOCK_RETRIES and store.count([4789]) == 5
