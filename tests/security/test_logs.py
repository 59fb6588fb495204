"""No personal data in logs: gunicorn's access and error log carry paths and statuses only."""

from __future__ import annotations

import re
import runpy
import socket
from pathlib import Path

import requests

from tests.conftest import PASSWORD, LiveServer, household

SECRETS = {"head_name": "Nguyễn Thị Bímật", "address": "Số 7 ngõ Riêngtư", "note": "ghi chú kín đáo",
           "hamlet": "Xóm Kínđáo"}


def _traffic(url: str, token: str) -> None:
    """Requests that carry personal data in bodies, query strings and form posts."""
    auth = {"Authorization": f"Bearer {token}"}
    record = household(**SECRETS)
    assert requests.post(url + "/api/v1/households", json=record, headers=auth, timeout=30).status_code == 201
    bad = household(head_name=SECRETS["head_name"], members="Bímật")
    assert requests.post(url + "/api/v1/households", json=bad, headers=auth, timeout=30).status_code == 422
    assert requests.get(url + "/api/v1/units", params={"q": "Tìmkiếm Bímật"}, timeout=30).status_code == 200
    assert requests.get(url + "/api/v1/households", params={"commune": 4789, "page": 1},
                        headers=auth, timeout=30).status_code == 200
    assert requests.get(url + "/exports/households.csv", params={"district": 148},
                        headers=auth, timeout=30).status_code == 403
    with requests.Session() as s:
        token_field = re.search(r'name="csrf_token" value="([^"]+)"', s.get(url + "/login").text).group(1)
        s.post(url + "/login", data={"username": "officer", "password": "hunter2-Bímật",
                                     "csrf_token": token_field}, timeout=30)


def test_a_damaged_data_file_is_a_clear_503_and_its_error_log_holds_no_personal_data(live_server, tokens,
                                                                                       data_dir):
    """A file damaged from outside fails its commune only, with a message an operator can act on.

    A submission may still be taken into the commune's change log (it is whole on disk);
    reading the commune, and compacting its log, find the damage and say so.
    """
    auth = {"Authorization": f"Bearer {tokens['department']}"}
    assert requests.post(live_server.url + "/api/v1/households", json=household(), headers=auth,
                         timeout=30).status_code == 201
    live_server_compact(data_dir)
    shard = data_dir / "households" / "4789.json"
    shard.write_bytes(shard.read_bytes()[:-10])
    posted = requests.post(live_server.url + "/api/v1/households", json=household(**SECRETS),
                           headers=auth, timeout=30)
    assert posted.status_code in (201, 503)
    response = requests.get(live_server.url + "/api/v1/households", params={"commune": 4789},
                            headers=auth, timeout=30)
    assert response.status_code == 503
    assert "4789.json is damaged: restore it from a backup" in response.json()["message"]
    other = household(commune_code=4831, head_name=SECRETS["head_name"])
    assert requests.post(live_server.url + "/api/v1/households", json=other, headers=auth,
                         timeout=30).status_code == 201
    live_server.stop()
    log = open(live_server.log.name, encoding="utf-8").read()
    assert '"GET /api/v1/households" 503' in log
    assert not any(value in log for value in SECRETS.values())


def live_server_compact(data_dir) -> None:
    """Fold commune 4789's change log into its file, as the service does once the log grows."""
    from survey.storage.logged import LoggedCollection
    LoggedCollection(data_dir / "households" / "4789.json", "households").compact()


def test_logs_hold_no_names_bodies_query_strings_or_secrets(live_server, tokens):
    """After traffic full of personal data, the log has the requests but none of that data."""
    _traffic(live_server.url, tokens["officer"])
    live_server.stop()  # flush and close the log
    log = open(live_server.log.name, encoding="utf-8").read()
    assert '"POST /api/v1/households" 201' in log and '"GET /api/v1/units" 200' in log
    for value in [*SECRETS.values(), "Bímật", "Tìmkiếm", "hunter2", tokens["officer"], "officer", "commune=4789",
                  "district=148", "?"]:
        assert value not in log, f"{value!r} found in the server log"
    for word in ("Bi%CC%81m", "B%C3%ADm", "Bimat"):  # nor any encoded form of the name
        assert word.lower() not in log.lower()


def _department_session(url: str) -> requests.Session:
    s = requests.Session()
    page = s.get(url + "/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert s.post(url + "/login", data={"username": "department", "password": PASSWORD, "csrf_token": token},
                  timeout=30).status_code == 200
    return s


def test_the_access_log_names_routes_not_accounts(live_server):
    """POST /accounts/officer2/reset is logged as its route: no username in the log."""
    with _department_session(live_server.url) as s:
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(live_server.url + "/accounts").text).group(1)
        assert s.post(live_server.url + "/accounts/officer2/reset", data={"csrf_token": token},
                      timeout=30).status_code == 200
        assert s.get(live_server.url + "/accounts/district2/nothing-here", timeout=30).status_code == 404
    live_server.stop()
    log = Path(live_server.log.name).read_text(encoding="utf-8")
    assert '"POST /accounts/<username>/reset" 200' in log
    assert '"GET /accounts/…" 404' in log
    for name in ("officer2", "district2", "department"):
        assert name not in log, f"{name!r} found in the server log"


def test_the_error_log_keeps_no_request_target_or_query(data_dir, tokens, monkeypatch):
    """A request the worker gives up on (here a body that never comes, past a 2 s timeout) is
    logged by gunicorn as an error: the log says so without the path's values or the query."""
    monkeypatch.setenv("SURVEY_TIMEOUT", "2")
    server = LiveServer(data_dir).start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(b"POST /api/v1/households?district=148&q=B%C3%ADm%E1%BA%ADt HTTP/1.1\r\nHost: x\r\n"
                         b"Authorization: Bearer " + tokens["department"].encode() + b"\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            sock.recv(1024)  # the worker is killed at its timeout and the connection closes
    finally:
        server.stop()
    log = Path(server.log.name).read_text(encoding="utf-8")
    assert "Error handling request" in log  # the failure is logged...
    for value in ("district=148", "B%C3%ADm", "?"):
        assert value not in log, f"{value!r} found in the server log"  # ...without what it asked for


def _access_line(log_format: str, environ: dict) -> str:
    """The access line RedactingLogger writes for one answered request, with ``log_format``."""
    import datetime
    import logging
    from types import SimpleNamespace

    from gunicorn.config import Config

    from survey.logs import RedactingLogger

    cfg = Config()
    cfg.set("access_log_format", log_format)
    cfg.set("accesslog", "-")
    logger = RedactingLogger(cfg)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    logger.access_log.handlers = [handler]
    resp = SimpleNamespace(status="201 CREATED", sent=395, headers=[("Content-Type", "application/json")])
    req = SimpleNamespace(headers=[("USER-AGENT", "wrk")])
    logger.access(resp, req, environ, datetime.timedelta(seconds=1, microseconds=31_500))
    return lines[0]


def test_the_access_line_is_gunicorns_with_the_route_for_the_path():
    """The production format is filled without copying headers, as gunicorn fills it; a format
    naming a header or an environ entry still gets them."""
    production = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["access_log_format"]
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "PATH_INFO": "/accounts/officer2/reset",
               "RAW_URI": "/accounts/officer2/reset?x=1", "SERVER_PROTOCOL": "HTTP/1.1",
               "survey.route": "/accounts/<username>/reset", "HTTP_USER_AGENT": "wrk"}
    assert _access_line(production, environ) == '10.0.0.7 "POST /accounts/<username>/reset" 201 395 1031ms'
    every_plain = "%(h)s %(l)s %(m)s %(s)s %(B)s %(b)s %(H)s %(T)s %(M)s %(D)s %(L)s %(U)s %(q)s %(f)s %(r)s"
    assert _access_line(every_plain, environ) == (
        '10.0.0.7 - POST 201 395 395 HTTP/1.1 1 1031 1031500 1.031500 /accounts/<username>/reset - - '
        'POST /accounts/<username>/reset HTTP/1.1')
    assert _access_line("%(M)s %({user-agent}i)s %({content-type}o)s", environ) == "1031 wrk application/json"
