"""A request's PostgreSQL work: one pooled connection held from its first statement to its end,
and the small collections read along with its token, seen fresh by the next request."""

from __future__ import annotations

import contextvars
import threading

import psycopg
import pytest

from survey.storage.postgres import connection
from survey.storage.postgres.documents import PostgresDocumentSpace
from survey.storage.postgres.households import PostgresHouseholds
from tests.conftest import household

from .test_postgres_setup import _terminate_sessions


@pytest.fixture
def checkouts(monkeypatch) -> list[psycopg.Connection]:
    """Every connection the pools hand out from now on."""
    taken: list[psycopg.Connection] = []
    original = connection.ConnectionPool.getconn

    def getconn(pool, *args, **kwargs):
        taken.append(original(pool, *args, **kwargs))
        return taken[-1]

    monkeypatch.setattr(connection.ConnectionPool, "getconn", getconn)
    return taken


@pytest.fixture
def request_scope():
    """Between ``hold`` and ``release``, as the app does around each request."""
    connection.hold()
    yield
    connection.release()


def test_a_request_s_statements_share_one_connection(pg_url, checkouts, request_scope):
    households, docs = PostgresHouseholds(pg_url), PostgresDocumentSpace(pg_url)
    record = household()
    assert households.create_once(record) is None
    assert households.get(record["id"])["id"] == record["id"]
    docs.collection("users", "users").put("an", {"n": 1})
    assert docs.collection("users", "users").get("an") == {"n": 1}
    assert households.count([4789]) == 1
    assert len(checkouts) == 1


def test_the_connection_goes_back_to_the_pool_when_the_request_ends(pg_url, checkouts, monkeypatch):
    """A pool of one: a request that kept its connection would leave the next one waiting."""
    monkeypatch.setenv("SURVEY_DATABASE_POOL", "1")
    monkeypatch.setattr(connection, "WAIT", 2.0)
    households = PostgresHouseholds(pg_url)
    for _ in range(3):
        connection.hold()
        assert households.count([4789]) == 0
        connection.release()
    assert len(checkouts) == 3 and len({id(conn) for conn in checkouts}) == 1  # given back each time


def test_a_request_whose_end_never_came_gives_its_connection_back_at_the_next(pg_url, monkeypatch):
    monkeypatch.setenv("SURVEY_DATABASE_POOL", "1")
    monkeypatch.setattr(connection, "WAIT", 2.0)
    households = PostgresHouseholds(pg_url)
    connection.hold()
    assert households.count([4789]) == 0
    connection.hold()
    assert households.count([4789]) == 0  # not a wait for the pool's only connection
    connection.release()


def test_without_a_request_each_statement_takes_its_own_turn(pg_url, checkouts):
    households = PostgresHouseholds(pg_url)
    households.count([4789])
    households.count([4789])
    assert len(checkouts) == 2


def test_a_read_inside_a_write_block_uses_another_connection(pg_url, checkouts, request_scope):
    """The held connection is in the block's transaction: a read nested in it does not see
    the block's uncommitted change, as it would not without a held connection."""
    docs = PostgresDocumentSpace(pg_url).collection("users", "users")
    docs.get("an")
    with docs.update() as held:
        held.put("an", {"n": 2})
        assert docs.get("an") is None
    assert docs.get("an") == {"n": 2}
    assert len(checkouts) == 2


def test_a_thread_given_the_request_s_context_takes_its_own_connection(pg_url, checkouts, request_scope):
    """A job the request starts may outlive it: it never shares the request's connection."""
    households = PostgresHouseholds(pg_url)
    households.count([4789])
    seen = []
    worker = threading.Thread(target=contextvars.copy_context().run,
                              args=(lambda: seen.append((households.count([4789]), connection.request_notes())),))
    worker.start()
    worker.join()
    assert seen == [(0, None)] and len(checkouts) == 2 and checkouts[0] is not checkouts[1]


def test_a_held_connection_whose_backend_ended_is_replaced(pg_url, pg_server, request_scope):
    households, record = PostgresHouseholds(pg_url), household()
    assert households.create_once(record) is None
    assert _terminate_sessions(pg_server.admin_url, pg_url) >= 1
    assert households.get(record["id"])["id"] == record["id"]  # the read is done again on a new one
    assert households.count([4789]) == 1


def test_settings_read_along_are_fresh_in_each_request(pg_url):
    """Read with the token in a request's first statement; a change made elsewhere (another
    host) is seen by the next request, and a change in the request by its own later reads."""
    space, elsewhere = PostgresDocumentSpace(pg_url), PostgresDocumentSpace(pg_url)
    space.read_along("settings")
    space.read_along('odd "name\\')  # quoted in the array's text
    tokens, users, settings = (space.collection(n, n) for n in ("tokens", "users", "settings"))
    users.put("an", {"name": "an"})
    tokens.put("t", {"username": "an"})
    for end in ("2020-08-25", "2020-08-30"):
        elsewhere.collection("settings", "settings").put("campaign", {"end": end})
        connection.hold()
        assert tokens.get_with("t", users, "username") == ({"username": "an"}, {"name": "an"})
        assert space.noted("settings") == {"campaign": {"end": end}}
        assert space.noted('odd "name\\') == {}
        assert settings.get("campaign") == {"end": end}
        settings.put("campaign", {"end": "2020-09-01"})
        assert settings.documents() == {"campaign": {"end": "2020-09-01"}}
        connection.release()
    assert tokens.get_with("nothing", users, "username") == (None, None)


def test_commune_versions_are_read_once_a_request_and_again_after_its_own_write(pg_url):
    households = PostgresHouseholds(pg_url)
    assert households.create_once(household()) is None
    connection.hold()
    first = households.change_token([4789, 4792])
    with connection.connect(pg_url, autocommit=True) as other:  # another host writes meanwhile
        other.execute("UPDATE household_communes SET version = version + 1 WHERE commune_code = 4789")
    assert households.change_token([4792, 4789]) == first  # the same set: read once this request
    assert households.create_once(household()) is None
    after_own = households.change_token([4789, 4792])
    assert after_own[0][1] == first[0][1] + 2
    connection.release()
    connection.hold()
    assert households.change_token([4789, 4792]) == after_own
    with connection.connect(pg_url, autocommit=True) as other:
        other.execute("UPDATE household_communes SET version = version + 1 WHERE commune_code = 4789")
    connection.release()
    assert households.change_token([4789, 4792])[0][1] == first[0][1] + 3  # outside a request: every time
