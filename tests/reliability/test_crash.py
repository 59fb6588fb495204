"""Crashes under load: SIGKILL of workers and master mid-traffic loses and duplicates nothing."""

from __future__ import annotations

import random
import threading
import time

import pytest
import requests

from survey.households.records import content_of

from .conftest import COMMUNES, CrashableServer, Ledger, new_record, post, read_stored

pytestmark = pytest.mark.server

ROUNDS = 3
MIN_ACKS_PER_ROUND = 15  # a round goes on (workers still dying) until this many were stored
CLIENTS = (("officer", 4789), ("officer", 4789), ("department", 4792), ("department", 4831),
           ("department", 4789))


def _client(server, ledger: Ledger, token: str, commune: int, stop: threading.Event, seed: int) -> None:
    """Submit households one after another, retrying unanswered ones, until told to stop."""
    n = seed * 100_000
    while not stop.is_set():
        record = ledger.next_record(commune, n)
        ledger.answer(record, post(server.url, token, record, timeout=10))
        n += 1


def _round(server, ledger, tokens, rng) -> None:
    """Traffic from every client while workers die at random moments, then the master dies too."""
    stop = threading.Event()
    threads = [threading.Thread(target=_client, args=(server, ledger, tokens[user], commune, stop, i))
               for i, (user, commune) in enumerate(CLIENTS)]
    for t in threads:
        t.start()
    acked_before = len(ledger.acked)
    deadline = time.monotonic() + rng.uniform(1.0, 2.5)
    cap = time.monotonic() + 60
    try:
        while time.monotonic() < deadline or len(ledger.acked) < acked_before + MIN_ACKS_PER_ROUND:
            assert time.monotonic() < cap, f"too few acknowledgements in a round: {ledger.statuses}"
            time.sleep(rng.uniform(0.2, 0.8))
            server.kill_worker(rng)
    finally:
        server.kill_all()  # mid-traffic: the clients are still sending
        stop.set()
        for t in threads:
            t.join(30)


def _settle(server, ledger, tokens) -> None:
    """After the last crash, clients retry what was never answered, as phones do when back online."""
    for record in list(ledger.pending.values()):
        status = post(server.url, tokens["department"], record)
        assert status in (200, 201), f"retry of {record['id']} answered {status}"
        ledger.answer(record, status)


def _province_total(server, token: str) -> dict:
    response = requests.get(server.url + "/api/v1/aggregates?level=province",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200
    return response.json()["rows"][0]


def test_sigkill_of_workers_and_master_loses_and_duplicates_nothing(data_dir, tokens, seed):
    """Several rounds of kill -9; afterwards every acknowledged record is stored exactly once."""
    rng = random.Random(seed)
    ledger = Ledger()
    for _ in range(ROUNDS):
        _round(CrashableServer(data_dir).start(), ledger, tokens, rng)
    assert len(ledger.acked) >= ROUNDS * MIN_ACKS_PER_ROUND, ledger.statuses
    assert set(ledger.statuses) <= {200, 201, 503, None}, ledger.statuses
    server = CrashableServer(data_dir).start()
    try:
        _settle(server, ledger, tokens)
        for commune in COMMUNES:  # one more write per commune sweeps what killed writers left
            ledger.answer(record := new_record(commune), post(server.url, tokens["department"], record))
        assert not list((data_dir / "households").glob(".*.tmp"))
        stored = read_stored(data_dir)
        assert not ledger.pending
        assert set(stored) == set(ledger.acked)
        assert all(len(copies) == 1 for copies in stored.values())
        for rid, (rec,) in stored.items():
            assert content_of(rec) == ledger.acked[rid]
        total = _province_total(server, tokens["department"])
        assert total["households"] == len(stored)
        assert total["members"] == sum(r["members"] for r in ledger.acked.values())
    finally:
        server.stop()
    assert {rec["commune_code"] for rec in ledger.acked.values()} == set(COMMUNES)
