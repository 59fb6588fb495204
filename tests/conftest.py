"""Shared fixtures: an app on a temporary data directory with one account per role.

The app's storage is the ``backend`` fixture: TinyDB files, except in tests marked
``each_backend`` (the API, the pages, exports and reports, accounts, sessions, login
throttling, review, agency reports and settings), which run once on TinyDB and once on
PostgreSQL, with households and every document store in a fresh copy of a database that
holds the test accounts.
"""

from __future__ import annotations

import os
import secrets
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from survey import create_app
from survey.storage.postgres import connection
from tests.postgres import TestServer, throwaway_cluster

PASSWORD = "correct horse 2020"
# Communes of Hòa Bình (17): 4789 and 4792 are in the city (148); 4831 is in Đà Bắc (150).
ACCOUNTS = {
    "officer": ("officer", 4789),
    "officer2": ("officer", 4831),
    "district": ("district", 148),
    "district2": ("district", 150),
    "department": ("department", None),
    "agency": ("agency", "SYT"),
    "agency_district": ("agency", "UBND-148"),
}


@pytest.fixture
def seed(request) -> int:
    """A seed for a randomised test: SURVEY_TEST_SEED if set, else a fresh one, shown on failure."""
    value = int(os.environ.get("SURVEY_TEST_SEED") or secrets.randbits(32))
    request.node.user_properties.append(("seed", value))
    return value


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed randomised test says how to run it again with the same draw."""
    report = yield
    seeds = [value for key, value in item.user_properties if key == "seed"]
    if report.failed and seeds:
        report.sections.append(("seed", f"rerun with SURVEY_TEST_SEED={seeds[0]}"))
    return report


BACKENDS = ("tinydb", "postgresql")


def pytest_generate_tests(metafunc) -> None:
    """A test marked ``each_backend`` that builds an app runs on TinyDB files and on PostgreSQL."""
    if metafunc.definition.get_closest_marker("each_backend") and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request) -> str:
    """The storage of this test's app: "tinydb" unless the test is marked ``each_backend``."""
    return getattr(request, "param", "tinydb")


def pytest_collection_modifyitems(items) -> None:
    """Markers that mean what they say: a test that drives Chromium is ``browser``; one that
    starts a real gunicorn through ``live_server`` is ``server`` (the crash tests mark themselves)."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if "chromium" in used:
            item.add_marker(pytest.mark.browser)
        if "live_server" in used:
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A PostgreSQL server for the run: SURVEY_TEST_DATABASE_URL if set, else a throwaway cluster."""
    given = os.environ.get("SURVEY_TEST_DATABASE_URL")
    if given:
        yield given
        return
    with throwaway_cluster() as url:
        yield url
        connection.close_pools()  # before the server goes: no pool left retrying in the background


@pytest.fixture(scope="session")
def pg_server(database_url) -> Iterator[TestServer]:
    """The server with this run's migrated template database."""
    server = TestServer(database_url)
    yield server
    server.close()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """A fresh, empty database at the newest schema for one test; dropped after it."""
    url = pg_server.fresh()
    yield url
    pg_server.drop(url)


@pytest.fixture(scope="session")
def accounts_dir(tmp_path_factory) -> Path:
    """A data directory holding the test accounts, hashed once for the whole run."""
    path = tmp_path_factory.mktemp("accounts")
    app = create_app({"SURVEY_DATA_DIR": str(path), "SECRET_KEY": "test"})
    with app.app_context():
        users = app.extensions["survey"].users
        for name, (role, unit) in ACCOUNTS.items():
            users.add(name, PASSWORD, role, unit)
    return path


@pytest.fixture(scope="session")
def pg_accounts(pg_server, tmp_path_factory) -> Iterator[str]:
    """A database holding the test accounts, hashed once: the template of each test's database."""
    url = pg_server.fresh()
    app = create_app({"SURVEY_DATA_DIR": str(tmp_path_factory.mktemp("pg-accounts")),
                      "SURVEY_DATABASE_URL": url, "SECRET_KEY": "test"})
    with app.app_context():
        users = app.extensions["survey"].users
        for name, (role, unit) in ACCOUNTS.items():
            users.add(name, PASSWORD, role, unit)
    connection.close_pool(url)  # a template database must have no sessions
    yield url
    pg_server.drop(url)


@pytest.fixture
def database(backend, request) -> Iterator[str | None]:
    """The SURVEY_DATABASE_URL of this test: None on TinyDB, else a copy of ``pg_accounts``."""
    if backend == "tinydb":
        yield None
        return
    template, server = request.getfixturevalue("pg_accounts"), request.getfixturevalue("pg_server")
    name = f"survey_{server.run}_{uuid.uuid4().hex[:10]}"
    source = psycopg.conninfo.conninfo_to_dict(template)["dbname"]
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
            sql.Identifier(name), sql.Identifier(source)))
    url = server.url_of(name)
    yield url
    server.drop(url)


@pytest.fixture
def data_dir(tmp_path, accounts_dir) -> Path:
    """A fresh data directory for one test, with the accounts already in it (in its files:
    on PostgreSQL the app reads them from ``database``, but a test's own TinyDB app may not)."""
    path = tmp_path / "data"
    shutil.copytree(accounts_dir, path)
    return path


@pytest.fixture
def app_config(data_dir, database) -> dict:
    """The test app's settings: a fresh data directory, and on PostgreSQL a fresh database."""
    config = {"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", "TESTING": True}
    if database:
        config["SURVEY_DATABASE_URL"] = database
    return config


@pytest.fixture
def app(app_config):
    return create_app(app_config)


@pytest.fixture
def camp(app):
    return app.extensions["survey"]


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Api:
    """Calls the JSON API as a given user, with a bearer token made on first use."""

    def __init__(self, app, client):
        self.app, self.client, self.tokens = app, client, {}

    def headers(self, user: str | None) -> dict:
        if user is None:
            return {}
        if user not in self.tokens:
            self.tokens[user] = self.app.extensions["survey"].users.new_token(user)
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def _headers(self, user: str | None, kw: dict) -> dict:
        return {**self.headers(user), **kw.pop("headers", {})}

    def get(self, url: str, user: str | None = "department", **kw):
        return self.client.get(url, headers=self._headers(user, kw), **kw)

    def post(self, url: str, body, user: str | None = "officer", **kw):
        return self.client.post(url, json=body, headers=self._headers(user, kw), **kw)

    def put(self, url: str, body, user: str | None = "officer", **kw):
        return self.client.put(url, json=body, headers=self._headers(user, kw), **kw)


@pytest.fixture
def api(app, client) -> Api:
    return Api(app, client)


def household(**changes) -> dict:
    """A valid household of commune 4789, with a fresh id."""
    record = {"id": str(uuid.uuid4()), "commune_code": 4789, "hamlet": "Xóm Mới",
              "head_name": "Bùi Văn An", "members": 4, "smartphone_users": 2,
              "installed_before": 1, "installed_during_visit": 1,
              "reasons_not_installed": ["no_smartphone"], "visited_on": "2020-08-15"}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not ...}


@pytest.fixture
def make_household():
    return household


class Browser:
    """Logs a test client in through the real login form."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        import re
        page = self.client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": self.csrf()})


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


def csrf(client, path: str) -> str:
    """The CSRF token of the form on ``path``."""
    import re
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def as_user(app, username: str):
    """A test client signed in as ``username`` through the login form."""
    client = app.test_client()
    Browser(client).login(username, PASSWORD)
    return client


# --- a real gunicorn, for tests that need several processes --------------------------------

def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """gunicorn with the production config on loopback, over a given data directory."""

    def __init__(self, data_dir: Path, workers: int = 3, database: str | None = None,
                 secret_key: str | None = "test", log_dir: Path | None = None):
        """``secret_key=None``: the key the campaign keeps (a file, or the database).
        ``log_dir``: where gunicorn's log goes (beside the data directory unless told; a test
        that fills the data's disk keeps it elsewhere, so a traceback survives to be read)."""
        self.data_dir, self.workers, self.database, self.secret_key = data_dir, workers, database, secret_key
        self.log_dir = log_dir or data_dir.parent
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> LiveServer:
        import os
        import subprocess
        import sys
        import time
        import urllib.request
        env = {**os.environ, "SURVEY_DATA_DIR": str(self.data_dir), "SURVEY_BIND": f"127.0.0.1:{self.port}",
               "SURVEY_WORKERS": str(self.workers), "SECRET_KEY": self.secret_key or ""}
        if self.database:
            env["SURVEY_DATABASE_URL"] = self.database
        root = Path(__file__).resolve().parent.parent
        self.log = open(self.log_dir / f"gunicorn-{self.port}.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                     cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=1)
                return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start; see {self.log.name}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()


@pytest.fixture
def live_server(data_dir, database):
    """A running gunicorn (3 workers) over this test's data directory (and database)."""
    server = LiveServer(data_dir, database=database).start()
    yield server
    server.stop()
