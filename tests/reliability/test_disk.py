"""A full or read-only data directory: 503 with the reason, nothing acknowledged, recovery after."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests

from survey import create_app
from tests.conftest import Api, Browser, household

from .conftest import CrashableServer, new_record, read_stored, wait_for


@pytest.fixture
def disk_app(small_disk):
    """The app over the small disk's data directory."""
    return create_app({"SURVEY_DATA_DIR": str(small_disk.mount / "data"), "SECRET_KEY": "test",
                       "TESTING": True})


@pytest.fixture
def disk_api(disk_app) -> Api:
    api = Api(disk_app, disk_app.test_client())
    for user in ("officer", "department"):
        api.headers(user)  # tokens are stored while there is room
    return api


def _refused(response, reason: str) -> None:
    """A 503 that says nothing was saved and why."""
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "unavailable"
    assert "nothing was saved" in body["message"] and reason in body["message"]


def test_full_disk_answers_503_stores_nothing_and_recovers(small_disk, disk_api):
    """ENOSPC mid-write leaves the old file whole; once space returns the same record goes in.

    A commune's change log may still have room in its last page after the disk fills, so
    the first few submissions can still be stored (and say so); the first refusal must be a
    clear 503, and what was acknowledged is exactly what is on disk.
    """
    kept = household()
    assert disk_api.post("/api/v1/households", kept).status_code == 201
    small_disk.fill()
    acknowledged, record, response = [kept["id"]], None, None
    for _ in range(200):
        record = household(note="x" * 400)
        response = disk_api.post("/api/v1/households", record)
        if response.status_code != 201:
            break
        acknowledged.append(record["id"])
    _refused(response, "the disk is full")
    assert disk_api.get(f"/api/v1/households/{record['id']}", user="officer").status_code == 404
    assert disk_api.get(f"/api/v1/households/{kept['id']}", user="officer").status_code == 200
    assert set(read_stored(small_disk.mount / "data")) == set(acknowledged)
    assert not list((small_disk.mount / "data" / "households").glob(".*.tmp"))
    small_disk.free()
    assert disk_api.post("/api/v1/households", record).status_code == 201
    assert set(read_stored(small_disk.mount / "data")) == {*acknowledged, record["id"]}


def test_read_only_disk_answers_503_keeps_reading_and_recovers(small_disk, disk_api):
    """A read-only remount (as after a disk error) refuses writes, still serves reads."""
    kept = household()
    assert disk_api.post("/api/v1/households", kept).status_code == 201
    small_disk.remount("ro")
    try:
        record = household()
        _refused(disk_api.post("/api/v1/households", record), "read-only")
        _refused(disk_api.put(f"/api/v1/households/{kept['id']}", {**kept, "members": 5}), "read-only")
        assert disk_api.get(f"/api/v1/households/{kept['id']}", user="officer").get_json()["members"] == 4
        assert disk_api.get("/api/v1/aggregates?level=province").status_code == 200
        assert disk_api.client.get("/healthz").get_json()["data_dir_writable"] is False
    finally:
        small_disk.remount("rw")
    assert disk_api.post("/api/v1/households", record).status_code == 201
    assert disk_api.client.get("/healthz").get_json()["data_dir_writable"] is True


def test_full_disk_on_the_form_page_says_nothing_was_saved(small_disk, disk_app):
    """An officer on the HTML form sees a 503 page with the reason, not a confirmation."""
    browser = Browser(disk_app.test_client())
    assert browser.login("officer").status_code == 302
    form = {k: str(v) for k, v in household().items() if k != "reasons_not_installed"}
    form["csrf_token"] = browser.csrf("/form")
    small_disk.fill()
    response = browser.client.post("/form", data=form)
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "nothing was saved" in page and "the disk is full" in page
    assert read_stored(small_disk.mount / "data") == {}


def _submit_until(url: str, token: str, stop: threading.Event, log: list) -> None:
    """Submit new households one by one, noting each answer."""
    n = 0
    while not stop.is_set():
        record = new_record(4789, n)
        response = requests.post(url + "/api/v1/households", json=record, timeout=15,
                                 headers={"Authorization": f"Bearer {token}"})
        log.append((record, response.status_code, response.json().get("message", "")))
        n += 1


@pytest.mark.server
def test_gunicorn_acknowledges_only_what_it_stored_while_the_disk_fills_and_frees(small_disk, tmp_path):
    """Under steady submissions the disk fills, then frees: 2xx iff stored, 503s carry the reason."""
    data = small_disk.mount / "data"
    token = create_app({"SURVEY_DATA_DIR": str(data), "SECRET_KEY": "test"}).extensions["survey"].users.new_token("officer")
    server = CrashableServer(data, log_dir=tmp_path).start()
    stop, log = threading.Event(), []
    client = threading.Thread(target=_submit_until, args=(server.url, token, stop, log))
    try:
        client.start()
        wait_for(lambda: any(code == 201 for _, code, _ in log))
        small_disk.fill()
        wait_for(lambda: sum(code == 503 for _, code, _ in log) >= 3)
        small_disk.free()
        mark = len(log)
        wait_for(lambda: any(code == 201 for _, code, _ in log[mark:]))
    finally:
        stop.set()
        client.join(30)
        server.stop()
    server_log = Path(server.log.name).read_text(errors="replace")
    assert {code for _, code, _ in log} == {201, 503}, server_log[-6000:]  # a 500's traceback
    assert all("the disk is full" in msg for _, code, msg in log if code == 503)
    acked = {rec["id"] for rec, code, _ in log if code == 201}
    assert set(read_stored(data)) == acked


def test_login_on_a_read_only_disk_is_503_not_a_crash(small_disk, disk_app):
    """Attempts are counted before the password is checked; when that cannot be written, say so."""
    browser = Browser(disk_app.test_client())
    token = browser.csrf()
    small_disk.remount("ro")
    try:
        response = browser.client.post("/login", data={"username": "officer", "password": "x" * 12,
                                                       "csrf_token": token})
    finally:
        small_disk.remount("rw")
    assert response.status_code == 503
    assert "read-only" in response.get_data(as_text=True)
    assert browser.login("officer").status_code == 302
