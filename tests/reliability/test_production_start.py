"""The documented production start (nginx in front of gunicorn): slow clients starve nobody,
throttling counts the real client, and `make serve` listens where it is told (loopback by default)."""

from __future__ import annotations

import subprocess

import pytest
import requests

from survey import create_app
from tests.conftest import free_port, household

from .slow_clients import ROOT, ProductionStart, csrf_of, probe_under_slow_clients

pytestmark = pytest.mark.server
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}


@pytest.fixture
def production(data_dir):
    server = ProductionStart(data_dir).start()
    yield server
    server.stop()


def test_slow_clients_do_not_starve_health_checks_or_submissions(production, tokens):
    probe = probe_under_slow_clients(production.url, production.port, tokens["officer"], seconds=30)
    print(probe.summary())
    for kind in ("healthz", "post"):
        assert len(probe.times[kind]) >= 15, probe.summary()
        assert all(t is not None and t < 2 for t in probe.times[kind]), probe.summary()
    assert set(probe.statuses["healthz"]) == {200}
    assert set(probe.statuses["post"]) == {201}


def test_gunicorn_is_reachable_only_through_nginx(production):
    assert production.listening_addresses() <= LOOPBACK
    socket_path = production.data_dir / ".run" / "gunicorn.sock"
    assert socket_path.is_socket()
    answer = requests.get(production.url + "/healthz", timeout=5)
    assert answer.headers["Server"] == "nginx"
    too_big = requests.post(production.url + "/api/v1/households", data=b"x" * (1024 * 1024 + 1), timeout=10,
                            headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413


def test_login_throttling_counts_the_client_not_a_forged_header(production):
    """20 failed logins per client address: forging X-Forwarded-For does not buy more tries."""
    session = requests.Session()
    statuses = []
    for i in range(21):
        token = csrf_of(session.get(production.url + "/login", timeout=10).text)
        answer = session.post(production.url + "/login", timeout=10,
                              data={"username": f"nobody{i}", "password": "wrong", "csrf_token": token},
                              headers={"X-Forwarded-For": f"10.9.{i}.1"})
        statuses.append(answer.status_code)
    assert statuses == [401] * 20 + [429]


def test_make_serve_listens_where_told_and_on_loopback_by_default(data_dir):
    camp = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test"}).extensions["survey"]
    camp.households.bulk_insert(4789, [{**household(), "district_code": 148, "officer": "officer",
                                        "created_at": camp.stamp(), "updated_at": camp.stamp()}])  # no demo data
    told = ProductionStart(data_dir)
    told.start(["make", "-s", "serve", f"VENV={ROOT / '.venv'}"])
    try:
        assert told.listening_addresses() == {"0100007F"}  # 127.0.0.1 only
    finally:
        told.stop()
    port = free_port()
    env = {k: v for k, v in told.env.items() if k != "SURVEY_BIND"}
    by_default = ProductionStart(data_dir)
    by_default.port, by_default.url = port, f"http://127.0.0.1:{port}"
    by_default.env = env | {"PORT": str(port)}
    by_default.start(["make", "-s", "serve", f"VENV={ROOT / '.venv'}"])
    try:
        assert by_default.listening_addresses() == {"0100007F"}
    finally:
        by_default.stop()


def test_the_first_make_serve_says_what_it_installs(tmp_path):
    plan = subprocess.run(["make", "-n", "serve", f"VENV={tmp_path / 'venv'}"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    assert "Installing the pinned Python packages" in plan
    assert plan.index("Installing the pinned") < plan.index("pip install")
