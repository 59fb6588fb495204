"""Connections to PostgreSQL: the URL the configuration names, and one pool per process.

gunicorn may fork workers after the app was built (``preload_app``): a pool's sockets and
threads must never cross a fork, so each process opens its own pool on first use, and a
pool inherited through ``fork`` is dropped in the child. A sync worker serves one request
at a time, so a few connections a worker are enough; ``SURVEY_DATABASE_POOL`` raises it
(threaded workers: one per thread plus one for a streaming export).

A connection is checked each time the pool hands it out, so that one whose backend was
ended (``pg_terminate_backend``, a database restart, an idle timeout of a proxy) is replaced
there and then and the request after the restart is served, not answered 503. The check
costs no round trip for a connection used a moment ago: a backend that ends says so on its
socket (an error message, then end of file), which a poll of the socket sees. Only a
connection with something to read, or idle for longer than ``QUIET`` seconds (a peer gone
silently, behind a proxy or a dead link, says nothing), gets the empty query round trip.
A backend ended a moment before it was handed out may not have said so yet: ``read`` does
its work once more on another connection when the first proves broken (reads, and the
create-once of a household, which stores an id at most once, are safe to do twice).

The pool's connections autocommit: a single read is one round trip, with no transaction to
end when the connection goes back; several statements that belong together go in
``with conn.transaction():``.

Within a request (``hold`` at its start, ``release`` at its end) the first connection taken
stays with the request: its later statements skip the pool's checkout, check and return,
which cost more Python time than a short statement's own. A use nested in another (a read
inside an ``update()`` block) takes a second connection from the pool, as it would without.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import orjson
import psycopg
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool

from .url import database_url, redacted

__all__ = ["POOL_SIZE", "close_pool", "close_pools", "connect", "database_url", "hold", "lease", "pool", "read",
           "redacted", "release", "request_notes"]

T = TypeVar("T")

POOL_SIZE = 4
WAIT = 30.0  # seconds a request waits for a connection before the database counts as unavailable
QUIET = 5.0  # seconds a connection may have been idle and still be handed out unchecked
_pools: dict[str, ConnectionPool] = {}
_lock = threading.Lock()
_held: ContextVar[_Request | None] = ContextVar("survey_held_connections", default=None)


def _configure(conn: psycopg.Connection) -> None:
    """Every connection: UTF-8, and JSON through orjson (records keep their field order)."""
    set_json_loads(orjson.loads, conn)
    set_json_dumps(lambda obj: orjson.dumps(obj).decode(), conn)
    _returned(conn)


def _returned(conn: psycopg.Connection) -> None:
    """When the connection was last in use (marked as each one goes back: not by the pool's
    ``reset`` callback, which makes every return a task for one of the pool's threads, waking
    it and handing the GIL over and back, more Python time than a short statement)."""
    conn._survey_used_at = time.monotonic()  # the pool keeps its own marks on connections too


def _configure_pooled(conn: psycopg.Connection) -> None:
    """A request's connection also runs without JIT compilation. The service's statements are
    short (a create, a page of the list, a count by commune); a count over tens of thousands
    of matching rows is costed high enough to be compiled, and compiling takes longer (about
    40 ms) than the query it speeds up. Set per session, not on the database, so a reporting
    tool on the same database keeps its own choice."""
    _configure(conn)
    conn.execute("SET jit = off")


def _check(conn: psycopg.Connection) -> None:
    """Raise if the connection is no longer usable: one round trip only when in doubt."""
    used_at = getattr(conn, "_survey_used_at", 0.0)
    poll = select.poll()  # not select(): a worker may hold descriptors above FD_SETSIZE
    poll.register(conn.pgconn.socket, select.POLLIN)
    if poll.poll(0) or time.monotonic() - used_at > QUIET:
        ConnectionPool.check_connection(conn)


def connect(url: str, **kwargs: Any) -> psycopg.Connection:
    """One connection outside the pool (migrations, one-off commands, tests)."""
    conn = psycopg.connect(url, client_encoding="utf8", **kwargs)
    _configure(conn)
    return conn


def pool(url: str) -> ConnectionPool:
    """This process's pool for ``url``, opened on first use."""
    found = _pools.get(url)
    if found is not None:
        return found
    with _lock:
        if url not in _pools:
            size = int(os.environ.get("SURVEY_DATABASE_POOL") or POOL_SIZE)
            _pools[url] = ConnectionPool(url, min_size=1, max_size=max(size, 1), open=True,
                                         kwargs={"client_encoding": "utf8", "autocommit": True},
                                         configure=_configure_pooled, name="survey", timeout=WAIT,
                                         check=_check)
        return _pools[url]


class _Request:
    """What one request holds: a connection per URL (with whether it is in use now), and
    documents its first read brought along (``notes``, kept by the document space)."""

    def __init__(self) -> None:
        self.conns: dict[str, list] = {}
        self.notes: dict[Any, Any] = {}
        self.thread = threading.get_ident()  # a thread given a copy of the context is not the request


def _request() -> _Request | None:
    """The request this thread serves, if any."""
    held = _held.get()
    return held if held is not None and held.thread == threading.get_ident() else None


def hold() -> None:
    """From now until ``release``: keep the first connection a URL's work takes (a request).
    Whatever an earlier request left held (its end never came) goes back first."""
    release()
    _held.set(_Request())


def release() -> None:
    """Give back the connections held since ``hold`` (the end of a request)."""
    held = _held.get()
    _held.set(None)
    for url, (conn, _busy) in (held.conns if held is not None else {}).items():
        _give_back(url, conn)


def _give_back(url: str, conn: psycopg.Connection) -> None:
    """Return ``conn`` to its pool, marked as used now (a pool closed meanwhile: closed)."""
    _returned(conn)
    found = _pools.get(url)
    if found is not None:
        found.putconn(conn)
    else:
        conn.close()


def request_notes() -> dict[Any, Any] | None:
    """This request's notes (documents read along with its first read); None outside a request."""
    held = _request()
    return None if held is None else held.notes


@contextmanager
def lease(url: str, keep: bool = True) -> Iterator[psycopg.Connection]:
    """A connection of ``url``'s pool: the one held for this request when it is free, else one
    from the pool (held from now on if the request holds none yet; ``keep=False``: never, for
    work that may outlive the request, a streamed export). A connection that is broken, or
    left in a transaction, goes back to the pool, which replaces or resets it."""
    held = _request() if keep else None
    conns = held.conns if held is not None else None
    entry = conns.get(url) if conns is not None else None
    if entry is not None and not entry[1]:
        conn = entry[0]
    else:
        conn = pool(url).getconn()
        if conns is not None and entry is None:
            entry = conns[url] = [conn, False]
        else:
            entry = None
    if entry is not None:
        entry[1] = True
    try:
        yield conn
    finally:
        if entry is None:
            _give_back(url, conn)
        elif conn.broken or conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            del conns[url]
            _give_back(url, conn)
        else:
            entry[1] = False


def read(url: str, work: Callable[[psycopg.Connection], T]) -> T:
    """``work`` on a pooled connection outside any transaction; done once more on another
    connection if the first lost its backend (so ``work`` must be safe to do twice)."""
    for attempt in range(2):
        with lease(url) as conn:
            try:
                return work(conn)
            except psycopg.OperationalError:
                if attempt or not conn.broken:
                    raise
        pool(url).check()  # the others idle since then may have lost theirs too: replaced now
    raise AssertionError("not reached")


def close_pool(url: str) -> None:
    """Close this process's pool for ``url`` (before its database is dropped)."""
    found = _pools.pop(url, None)
    if found is not None:
        found.close()


def close_pools() -> None:
    """Close every pool of this process."""
    for url in list(_pools):
        close_pool(url)


def _forget_after_fork() -> None:
    """In a forked child: the parent's pools are not ours (psycopg leaves their sockets alone
    in a process that did not open them, so dropping them does not end the parent's sessions)."""
    global _lock
    _pools.clear()
    _held.set(None)
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)
