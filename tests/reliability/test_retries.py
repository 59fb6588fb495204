"""Racing retries of one record id, answered by different gunicorn workers, store it once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import new_record, post, read_stored

pytestmark = pytest.mark.server

RACERS = 8


def _race(url: str, token: str, records: list[dict]) -> list[int | None]:
    """Send every record at once from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(records))

    def send(record: dict) -> int | None:
        barrier.wait()
        return post(url, token, record)

    with ThreadPoolExecutor(len(records)) as pool:
        return list(pool.map(send, records))


def test_same_id_same_content_from_racing_retries_is_stored_once(live_server, tokens, data_dir):
    """One 201, the other retries 200, one record on disk: no check-then-insert race."""
    for n in range(5):
        record = new_record(4789, n)
        codes = _race(live_server.url, tokens["officer"], [dict(record) for _ in range(RACERS)])
        assert sorted(codes) == [200] * (RACERS - 1) + [201]
    stored = read_stored(data_dir)
    assert len(stored) == 5 and all(len(copies) == 1 for copies in stored.values())


def test_same_id_different_content_keeps_the_first_and_refuses_the_rest(live_server, tokens, data_dir):
    """Two phones that reuse an id with different households: one wins, the others get 409."""
    first = new_record(4789, 1)
    variants = [{**first, "head_name": f"Người {i}"} for i in range(RACERS)]
    codes = _race(live_server.url, tokens["officer"], variants)
    assert sorted(codes) == [201] + [409] * (RACERS - 1)
    (stored,) = read_stored(data_dir)[first["id"]]
    assert stored["head_name"] in {v["head_name"] for v in variants}
