"""Crashes under load on PostgreSQL: SIGKILL of app workers and master, and the database's
backend connections terminated mid-traffic, lose and duplicate nothing.

The clients are those of ``test_crash`` (households sent and retried until answered), plus
an agency account sending staff reports, whose version numbers are a read-modify-write of
the document store: every acknowledged report is stored once, and no version is given twice.
"""

from __future__ import annotations

import random
import threading
import time
import uuid

import psycopg
import pytest
import requests

from survey import create_app
from survey.households.records import content_of

from .conftest import COMMUNES, CrashableServer, Ledger
from .test_crash import CLIENTS, MIN_ACKS_PER_ROUND, ROUNDS, _client, _province_total, _settle

pytestmark = pytest.mark.server

ANSWERS = {200, 201, 503, None}  # a 503 or no answer is retried; nothing else may happen


@pytest.fixture
def backend() -> str:
    return "postgresql"


@pytest.fixture
def tokens(app_config) -> dict[str, str]:
    """A bearer token per client account, made in the database before any server starts."""
    users = create_app(app_config).extensions["survey"].users
    return {name: users.new_token(name) for name in ("officer", "officer2", "district", "department", "agency")}


class Reports:
    """What the agency client knows: reports acknowledged, and the one sent without an answer."""

    def __init__(self):
        self.acked: dict[str, dict] = {}
        self.pending: dict | None = None
        self.statuses: dict[int | None, int] = {}

    def send(self, url: str, token: str, n: int) -> None:
        report = self.pending or {"id": str(uuid.uuid4()), "staff_total": 100 + n % 50, "smartphone_users": 50,
                                  "installed": n % 50, "reported_on": "2020-08-18", "reporter_name": "Bùi Thị Lan",
                                  "reporter_phone": "0912 345 678"}
        try:
            status = requests.post(url + "/api/v1/agency-reports", json=report, timeout=10,
                                   headers={"Authorization": f"Bearer {token}"}).status_code
        except requests.RequestException:
            status = None
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status in (200, 201):
            self.acked[report["id"]], self.pending = report, None
        else:
            self.pending = report


def _agency(server, reports: Reports, token: str, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        reports.send(server.url, token, n)
        n += 1


def terminate_backends(admin_url: str, database: str) -> int:
    """pg_terminate_backend of every session of ``database`` (the app workers' pooled ones)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchall()
    return len(rows)


def _round(server, ledger, reports, tokens, rng, kill_db) -> int:
    """Traffic while workers die and backends are terminated at random moments; then the
    master dies too. The number of backends terminated."""
    stop = threading.Event()
    threads = [threading.Thread(target=_client, args=(server, ledger, tokens[user], commune, stop, i))
               for i, (user, commune) in enumerate(CLIENTS)]
    threads.append(threading.Thread(target=_agency, args=(server, reports, tokens["agency"], stop)))
    for t in threads:
        t.start()
    acked_before, terminated = len(ledger.acked), 0
    deadline, cap = time.monotonic() + rng.uniform(1.0, 2.5), time.monotonic() + 90
    try:
        while time.monotonic() < deadline or len(ledger.acked) < acked_before + MIN_ACKS_PER_ROUND:
            assert time.monotonic() < cap, f"too few acknowledgements in a round: {ledger.statuses}"
            time.sleep(rng.uniform(0.2, 0.8))
            if rng.random() < 0.5:
                server.kill_worker(rng)
            else:
                terminated += kill_db()
    finally:
        server.kill_all()
        stop.set()
        for t in threads:
            t.join(30)
    return terminated


def _stored(url: str) -> tuple[dict[str, list[dict]], list[dict]]:
    """Every household row by id (a list, to see duplicates), and every stored agency report."""
    with psycopg.connect(url) as conn:
        households: dict[str, list[dict]] = {}
        for rid, rec in conn.execute("SELECT id, record FROM households").fetchall():
            households.setdefault(rid, []).append(rec)
        docs = [r[0] for r in conn.execute("SELECT doc FROM documents WHERE collection = 'agency_reports'")]
    return households, docs


def test_sigkill_and_terminated_backends_lose_and_duplicate_nothing(tmp_path, database, pg_server, tokens, seed):
    """Rounds of kill -9 and pg_terminate_backend; afterwards every acknowledged household and
    report is stored exactly once, reports numbered 1..n without a gap or a repeat."""
    rng, ledger, reports = random.Random(seed), Ledger(), Reports()
    data_dir = tmp_path / "host"
    data_dir.mkdir()
    name = psycopg.conninfo.conninfo_to_dict(database)["dbname"]
    terminated = sum(_round(CrashableServer(data_dir, database=database).start(), ledger, reports, tokens, rng,
                            lambda: terminate_backends(pg_server.admin_url, name)) for _ in range(ROUNDS))
    assert terminated > 0 and len(ledger.acked) >= ROUNDS * MIN_ACKS_PER_ROUND, ledger.statuses
    assert set(ledger.statuses) <= ANSWERS and set(reports.statuses) <= ANSWERS, (ledger.statuses, reports.statuses)
    server = CrashableServer(data_dir, database=database).start()
    try:
        _settle(server, ledger, tokens)
        if reports.pending:
            reports.send(server.url, tokens["agency"], 0)
        households, stored_reports = _stored(database)
        assert not ledger.pending and reports.pending is None
        assert set(households) == set(ledger.acked)
        assert all(len(copies) == 1 for copies in households.values())
        for rid, (rec,) in households.items():
            assert content_of(rec) == ledger.acked[rid]
        assert sorted(r["id"] for r in stored_reports) == sorted(reports.acked)
        assert sorted(r["version"] for r in stored_reports) == list(range(1, len(reports.acked) + 1))
        total = _province_total(server, tokens["department"])
        assert total["households"] == len(households)
        assert total["members"] == sum(r["members"] for r in ledger.acked.values())
    finally:
        server.stop()
    assert {rec["commune_code"] for rec in ledger.acked.values()} == set(COMMUNES)
