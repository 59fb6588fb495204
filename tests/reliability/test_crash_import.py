"""A SIGKILL of the server in the middle of an import job: what the job reported stored is
stored once, no file is torn, and importing the file again completes it without copies."""

from __future__ import annotations

import time

import pytest
import requests

from tests.households.test_import_jobs import paper_csv

from .conftest import CrashableServer, read_stored

pytestmark = pytest.mark.server

ROWS = 20_000  # five batches of one commune: the kill lands after the first and before the last


def _upload(server, token: str, body: bytes) -> str:
    """Start the import job; the URL of its status."""
    r = requests.post(server.url + "/import", files={"file": ("ho.csv", body, "text/csv")},
                      headers={"Authorization": f"Bearer {token}"}, allow_redirects=False, timeout=60)
    assert r.status_code == 303, r.text[:300]
    return server.url + r.headers["Location"] + ".json"


def _status(url: str, token: str) -> dict:
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30).json()


def _wait(url: str, token: str, until, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _status(url, token)
        if until(status):
            return status
        time.sleep(0.02)
    raise AssertionError(f"the import never reached the state wanted: {status}")


def test_sigkill_mid_import_keeps_what_was_stored_once_and_a_second_import_completes(data_dir, tokens):
    token, body = tokens["department"], paper_csv(ROWS)
    server = CrashableServer(data_dir).start()
    try:
        url = _upload(server, token, body)
        seen = _wait(url, token, lambda s: s["done"] > 0 or s["state"] != "running")
        assert seen["state"] == "running", f"the import ended before the kill: {seen}"
    finally:
        server.kill_all()
    stored = read_stored(data_dir)  # parses every file and log line strictly: nothing torn
    assert all(len(copies) == 1 for copies in stored.values())
    assert seen["done"] <= len(stored) < ROWS
    server = CrashableServer(data_dir).start()
    try:
        done = _wait(_upload(server, token, body), token, lambda s: s["state"] != "running")
    finally:
        server.stop()
    assert (done["state"], done["error_count"]) == ("done", 0)
    assert (done["created"], done["unchanged"]) == (ROWS - len(stored), len(stored))
    again = read_stored(data_dir)
    assert len(again) == ROWS and all(len(copies) == 1 for copies in again.values())
    assert {rid: copies for rid, copies in again.items() if rid in stored} == stored
