"""Two app hosts on one database: two gunicorns, each with its own data directory and port.

Everything the service keeps is in PostgreSQL, so either host answers any request: a record
retried over both is stored once, login failures and sessions count on both, a deactivation
on one is refused at once on the other, and both read the same figures. Neither host is
given SECRET_KEY: the session key comes from the database.
"""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from survey import create_app
from tests.conftest import PASSWORD, LiveServer

from .conftest import new_record

pytestmark = pytest.mark.server

RACERS = 16


@pytest.fixture
def backend() -> str:
    """Two hosts share a database: these tests are about PostgreSQL alone."""
    return "postgresql"


@pytest.fixture
def hosts(tmp_path, database):
    """Two gunicorns (2 workers each) with separate data directories, on one database."""
    servers = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(LiveServer(tmp_path / name, workers=2, database=database, secret_key=None).start())
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def tokens(app_config) -> dict[str, str]:
    """A bearer token per account that needs one, made in the database before the hosts start."""
    users = create_app(app_config).extensions["survey"].users
    return {name: users.new_token(name) for name in ("officer", "department", "agency")}


def _race(calls) -> list[int]:
    """Run every call at once, each in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _login(session: requests.Session, url: str, username: str, password: str = PASSWORD) -> int:
    page = session.get(url + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return session.post(url + "/login", data={"username": username, "password": password, "csrf_token": token},
                        allow_redirects=False, timeout=30).status_code


def test_racing_retries_of_one_id_over_both_hosts_store_one_record(hosts, tokens):
    """16 retries of one household, and of one agency report, alternating hosts: one 201 each."""
    record = new_record(4789, 1)
    codes = _race([lambda url=hosts[i % 2].url: requests.post(
        url + "/api/v1/households", json=record, headers=_bearer(tokens["officer"]), timeout=60).status_code
        for i in range(RACERS)])
    assert sorted(codes) == [200] * (RACERS - 1) + [201]
    report = {"id": str(uuid.uuid4()), "staff_total": 120, "smartphone_users": 100, "installed": 60,
              "reported_on": "2020-08-18", "reporter_name": "Bùi Thị Lan", "reporter_phone": "0912 345 678"}
    codes = _race([lambda url=hosts[i % 2].url: requests.post(
        url + "/api/v1/agency-reports", json=report, headers=_bearer(tokens["agency"]), timeout=60).status_code
        for i in range(RACERS)])
    assert sorted(codes) == [200] * (RACERS - 1) + [201]
    for host in hosts:
        listed = requests.get(host.url + "/api/v1/households?commune=4789", headers=_bearer(tokens["department"]),
                              timeout=30).json()
        assert [r["id"] for r in listed["items"]] == [record["id"]]
        reports = requests.get(host.url + "/api/v1/agency-reports", headers=_bearer(tokens["agency"]),
                               timeout=30).json()
        assert [(r["id"], r["version"]) for r in reports["items"]] == [(report["id"], 1)]


def test_a_login_failure_on_one_host_counts_on_the_other(hosts):
    """Five wrong passwords, three on one host and two on the other, lock the account on both."""
    for i in range(5):
        with requests.Session() as s:
            assert _login(s, hosts[int(i >= 3)].url, "officer", "wrong password") == 401
    for host in hosts:
        with requests.Session() as s:
            assert _login(s, host.url, "officer") == 429
    with requests.Session() as s:
        assert _login(s, hosts[1].url, "officer2") == 302  # another account is untouched


def test_a_session_made_on_one_host_is_valid_on_the_other_until_logout(hosts):
    """The session cookie of host a signs in on host b; logging out on b ends it on a too."""
    with requests.Session() as s:
        assert _login(s, hosts[0].url, "district") == 302
        for host in hosts:
            answer = s.get(host.url + "/api/v1/session", timeout=30)
            assert answer.status_code == 200 and answer.json()["user"]["username"] == "district"
        copied = dict(s.cookies)
        page = s.get(hosts[1].url + "/", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert s.post(hosts[1].url + "/logout", data={"csrf_token": token}, allow_redirects=False,
                      timeout=30).status_code in (302, 303)
    for host in hosts:
        assert requests.get(host.url + "/api/v1/session", cookies=copied, timeout=30).status_code == 401


def test_an_account_deactivated_on_one_host_is_refused_at_once_on_the_other(hosts, tokens):
    """The department deactivates the officer on host a; host b refuses the officer's token,
    session and password at the next request."""
    officer = requests.Session()
    assert _login(officer, hosts[1].url, "officer") == 302
    assert officer.get(hosts[1].url + "/api/v1/session", timeout=30).status_code == 200
    headers = _bearer(tokens["officer"])
    assert requests.get(hosts[1].url + "/api/v1/households", headers=headers, timeout=30).status_code == 200
    with requests.Session() as admin:
        assert _login(admin, hosts[0].url, "department") == 302
        page = admin.get(hosts[0].url + "/accounts", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        done = admin.post(hosts[0].url + "/accounts/officer/active", data={"active": "0", "csrf_token": token},
                          allow_redirects=False, timeout=30)
        assert done.status_code in (302, 303)
    assert requests.get(hosts[1].url + "/api/v1/households", headers=headers, timeout=30).status_code == 401
    assert officer.get(hosts[1].url + "/api/v1/session", timeout=30).status_code == 401
    with requests.Session() as s:
        assert _login(s, hosts[1].url, "officer") == 401
    officer.close()


def test_aggregates_read_from_either_host_agree(hosts, tokens):
    """Households sent to both hosts: every level's figures are the same from each."""
    headers = _bearer(tokens["department"])
    for n in range(24):
        record = new_record((4789, 4792, 4831)[n % 3], n)
        assert requests.post(hosts[n % 2].url + "/api/v1/households", json=record, headers=headers,
                             timeout=60).status_code == 201
    for level in ("province", "district", "commune", "hamlet"):
        rows = [requests.get(host.url + f"/api/v1/aggregates?level={level}", headers=headers, timeout=60).json()["rows"]
                for host in hosts]
        assert rows[0] == rows[1]
    province = rows_of(hosts[1], headers, "province")
    assert sum(row["households"] for row in province) == 24


def rows_of(host, headers: dict, level: str) -> list[dict]:
    return requests.get(host.url + f"/api/v1/aggregates?level={level}", headers=headers, timeout=60).json()["rows"]
