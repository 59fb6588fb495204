"""Against a real gunicorn with several workers: no lost update, no duplicate, no restart needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import household

ROOT = Path(__file__).resolve().parent.parent


def call(server, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.url + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def flask_cli(data_dir: Path, *args: str, stdin: str = "") -> str:
    env = {**os.environ, "SURVEY_DATA_DIR": str(data_dir)}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                         input=stdin, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_parallel_submissions_into_one_commune_are_all_kept(live_server, data_dir, camp):
    token = flask_cli(data_dir, "users", "token", "department")
    bodies = [household(commune_code=(4789 if i % 3 else 4831), head_name=f"Hộ {i}") for i in range(120)]
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda b: call(live_server, "POST", "/api/v1/households", token, b), bodies))
    assert [status for status, _ in results] == [201] * 120
    stored = {r["id"] for r in camp.households.records([4789, 4831])}
    assert stored == {b["id"] for b in bodies}
    status, agg = call(live_server, "GET", "/api/v1/aggregates?level=province", token)
    assert agg["rows"][0]["households"] == 120


def test_racing_retries_of_one_id_store_one_record(live_server, data_dir, camp):
    token = flask_cli(data_dir, "users", "token", "officer")
    body = household()
    with ThreadPoolExecutor(8) as pool:
        statuses = [s for s, _ in pool.map(lambda _: call(live_server, "POST", "/api/v1/households", token, body),
                                           range(16))]
    assert sorted(statuses) == [200] * 15 + [201]
    assert camp.households.count([4789]) == 1


def test_an_account_added_with_the_cli_works_at_once(live_server, data_dir):
    flask_cli(data_dir, "users", "add", "xa-4792", "--role", "officer", "--unit", "4792", "--password-stdin",
              stdin="a good password\n")
    token = flask_cli(data_dir, "users", "token", "xa-4792")
    for _ in range(3):  # whichever worker answers
        assert call(live_server, "POST", "/api/v1/households", token, household(commune_code=4792))[0] == 201
