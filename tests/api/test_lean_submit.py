"""The lean submission path answers what it can exactly as the app would, and hands the rest on.

Each test sends a request twice, or two twin requests: once as the service is built (the
lean path in front of the app) and once to the app alone, and compares the answers. A spy
on the app behind the lean path shows which of the two answered.
"""

from __future__ import annotations

import gzip
import json
import time

import brotli
import pytest
from werkzeug.test import EnvironBuilder

from survey.api.lean_submit import PATH, LeanSubmissions
from survey.logs import ROUTE
from survey.storage import StorageUnavailable
from tests.conftest import household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

# Stamped by the server at the time of the request: equal only within the same second.
_STAMPS = ("id", "created_at", "updated_at")


class Paths:
    """The app with and without its lean path, and whether the last request reached Flask."""

    def __init__(self, app):
        self.app = app
        self.lean: LeanSubmissions = app.wsgi_app
        self.flask = self.lean.wsgi_app
        self.reached_flask = 0

        def spy(environ, start_response):
            self.reached_flask += 1
            return self.flask(environ, start_response)
        self.lean.wsgi_app = spy

    def send(self, client, *, lean: bool, **kw):
        """``client.post`` through the lean path (``lean``) or to Flask alone; ``reached_flask``
        then counts this request's trips to Flask."""
        self.reached_flask = 0
        self.app.wsgi_app = self.lean if lean else self.flask
        try:
            answer = client.post(kw.pop("url", PATH), **kw)
            answer.reached_flask = self.reached_flask
            return answer
        finally:
            self.app.wsgi_app = self.lean


@pytest.fixture
def paths(app) -> Paths:
    return Paths(app)


def _headers(response) -> dict[str, str]:
    """Headers by name, with the record's own id taken out of Location."""
    found = {key: value for key, value in response.headers.items() if key not in ("Date", "Set-Cookie")}
    if "Location" in found:
        found["Location"] = found["Location"].rsplit("/", 1)[0]
    return found


def _same_answer(lean, flask, *, twins: bool) -> None:
    """Status and headers equal; the body byte for byte, or for twin records (two ids, stamped
    separately) equal but for the id and the stamps."""
    assert (lean.status, _headers(lean)) == (flask.status, _headers(flask))
    if not twins:
        assert lean.get_data() == flask.get_data()
        return
    strip = lambda body: {k: v for k, v in body.items() if k not in _STAMPS}  # noqa: E731
    assert strip(lean.get_json()) == strip(flask.get_json())


def _phone(client, browser, lang: str = "vi") -> dict:
    """Sign in as the officer through the login form, as the form's page does; the headers the
    outbox sends with each household."""
    browser.login("officer")
    client.get(f"/api/v1/session?lang={lang}")  # the page's language, kept by the session
    return {"X-CSRF-Token": client.get("/api/v1/session").get_json()["csrf_token"]}


def test_a_token_submission_is_answered_beneath_flask_as_flask_answers_it(api, client, paths):
    auth = api.headers("officer")
    lean = paths.send(client, lean=True, json=household(), headers=auth)
    flask = paths.send(client, lean=False, json=household(), headers=auth)
    assert lean.status_code == 201 and lean.reached_flask == 0
    _same_answer(lean, flask, twins=True)
    replay = lean.get_json()
    replay = {k: v for k, v in replay.items() if k not in ("district_code", "officer", "created_at", "updated_at")}
    again_lean = paths.send(client, lean=True, json=replay, headers=auth)
    again_flask = paths.send(client, lean=False, json=replay, headers=auth)
    assert again_lean.status_code == 200 and again_lean.reached_flask == 0
    _same_answer(again_lean, again_flask, twins=False)
    assert api.get(f"{PATH}/{replay['id']}").get_json() == lean.get_json()


def test_the_outbox_submission_with_the_session_cookie_is_answered_beneath_flask(client, browser, paths):
    headers = _phone(client, browser)
    lean = paths.send(client, lean=True, url=f"{PATH}?lang=vi", json=household(), headers=headers)
    flask = paths.send(client, lean=False, url=f"{PATH}?lang=vi", json=household(), headers=headers)
    assert lean.status_code == 201 and lean.reached_flask == 0
    assert lean.headers["Vary"] == "Accept-Encoding, Cookie"
    _same_answer(lean, flask, twins=True)
    assert "Set-Cookie" not in lean.headers  # the session is renewed by the sync pass's GET /api/v1/session


@pytest.mark.parametrize("accept, decode", [("gzip", gzip.decompress), ("br;q=1, gzip;q=0.5", brotli.decompress),
                                            ("identity", None)])
def test_a_long_record_is_compressed_as_the_app_compresses_it(api, client, paths, accept, decode):
    auth = {**api.headers("officer"), "Accept-Encoding": accept}
    # a record past Flask-Compress's 500-byte minimum
    long = {"address": "Xóm Mới, xã Tân Lập, huyện Lạc Sơn " * 5, "note": "Nhà có người già, hẹn quay lại " * 15}
    lean = paths.send(client, lean=True, json=household(**long), headers=auth)
    flask = paths.send(client, lean=False, json=household(**long), headers=auth)
    assert lean.status_code == 201 and lean.reached_flask == 0
    unsized = lambda answer: {k: v for k, v in _headers(answer).items() if k != "Content-Length"}  # noqa: E731
    assert unsized(lean) == unsized(flask)  # twin records: compressed, their sizes may differ by a byte
    if decode is None:
        assert "Content-Encoding" not in lean.headers
        return
    assert lean.headers["Content-Encoding"] == flask.headers["Content-Encoding"]
    assert int(lean.headers["Content-Length"]) == len(lean.get_data())
    record = json.loads(decode(lean.get_data()))
    assert record["note"] == long["note"].strip() and api.get(f"{PATH}/{record['id']}").get_json() == record


def _variants(app, api, client, browser) -> dict:
    """Requests the lean path leaves to the app: name -> (the app's status, fresh request keywords)."""
    anon = app.test_client()  # no cookie
    token = {"client": anon, "headers": api.headers("officer")}
    phone = _phone(client, browser)
    other_csrf = {"X-CSRF-Token": phone["X-CSRF-Token"][:-2] + "xx"}
    raw = lambda body: {"url": f"{PATH}?lang=vi", "data": body, "headers": phone,  # noqa: E731
                        "content_type": "application/json"}
    return {
        "no credentials": (401, lambda: {"json": household(), "client": anon}),
        "an unknown token": (401, lambda: {"json": household(), "headers": {"Authorization": "Bearer nope"},
                                           "client": anon}),
        "a token and a cookie": (201, lambda: {"json": household(), "headers": token["headers"]}),
        "a token with ?lang=": (201, lambda: {"url": f"{PATH}?lang=en", "json": household(), **token}),
        "a cookie without the CSRF token": (400, lambda: {"url": f"{PATH}?lang=vi", "json": household()}),
        "a cookie with another CSRF token": (400, lambda: {"url": f"{PATH}?lang=vi", "json": household(),
                                                           "headers": other_csrf}),
        "a language the session does not hold": (201, lambda: {"url": f"{PATH}?lang=en", "json": household(),
                                                               "headers": phone}),
        "another query": (201, lambda: {"url": f"{PATH}?lang=vi&x=1", "json": household(), "headers": phone}),
        "a charset in the type": (201, lambda: {**raw(json.dumps(household()).encode()),
                                                "content_type": "application/json; charset=utf-8"}),
        "not JSON": (400, lambda: raw(b"{'id': 1")),
        "a JSON list": (400, lambda: raw(b"[1]")),
        "a key twice": (400, lambda: raw(b'{"id": "a", "id": "b"}')),
        "an invalid record": (422, lambda: {"json": household(members=0, smartphone_users=3), **token,
                                            "headers": {**token["headers"], "Accept-Language": "en"}}),
        "a commune outside the area": (403, lambda: {"url": f"{PATH}?lang=vi", "json": household(commune_code=4792),
                                                     "headers": phone}),
        "a body over the limit": (413, lambda: raw(b" " * (1024 * 1024 + 1))),
    }


def test_what_it_cannot_settle_goes_to_the_app_and_gets_the_apps_answer(app, api, client, browser, paths):
    for name, (status, request) in _variants(app, api, client, browser).items():
        through = paths.send(**{"client": client, **request()}, lean=True)
        alone = paths.send(**{"client": client, **request()}, lean=False)
        assert (through.reached_flask, through.status_code) == (1, status), name
        assert alone.status_code == status, name
        _same_answer(through, alone, twins=status == 201)


def test_a_conflicting_resend_gets_the_apps_409_and_nothing_changes(api, client, paths):
    auth = api.headers("officer")
    first = household()
    assert paths.send(client, lean=True, json=first, headers=auth).status_code == 201
    changed = {**first, "members": 5}
    through = paths.send(client, lean=True, json=changed, headers=auth)
    assert through.status_code == 409 and paths.reached_flask == 1
    assert api.get(f"{PATH}/{first['id']}").get_json()["members"] == 4


def test_an_account_that_must_change_its_password_is_left_to_the_app(api, app, client, paths):
    auth = api.headers("officer")
    app.extensions["survey"].users.update("officer", must_change=True)
    answer = paths.send(client, lean=True, json=household(), headers=auth)
    assert paths.reached_flask == 1
    assert answer.status_code == 403 and answer.get_json()["change_password"] == "/api/v1/password"


def test_a_signed_out_session_is_refused_by_the_app(client, browser, paths):
    headers = _phone(client, browser)
    cookie = client.get_cookie("survey_session").value
    client.post("/logout", data={"csrf_token": browser.csrf("/form")})
    client.set_cookie("survey_session", cookie)  # the old cookie, kept by someone
    answer = paths.send(client, lean=True, url=f"{PATH}?lang=vi", json=household(), headers=headers)
    assert answer.status_code == 401 and paths.reached_flask == 1


def test_a_storage_error_is_answered_by_the_app_without_storing_twice(api, app, client, paths, monkeypatch):
    """A full disk met beneath Flask gets the app's 503, and the write is not tried again."""
    households = app.extensions["survey"].households
    calls = []

    def full(*args, **kwargs):
        calls.append(1)
        raise StorageUnavailable("cannot write 07.log: the disk is full")
    monkeypatch.setattr(households, "create", full)
    auth = api.headers("officer")
    through = paths.send(client, lean=True, json=household(), headers=auth)
    assert (through.reached_flask, len(calls)) == (1, 1)
    alone = paths.send(client, lean=False, json=household(), headers=auth)
    assert through.status_code == 503 and "the disk is full" in through.get_json()["message"]
    _same_answer(through, alone, twins=False)


def test_what_it_met_is_answered_once_by_the_view(api, app, client, paths, monkeypatch):
    """An invalid record is validated once, beneath Flask; the view raises what it found."""
    schema = app.extensions["survey"].schemas.schema("vi")
    loads = []
    real = type(schema).load
    monkeypatch.setattr(type(schema), "load", lambda self, *a, **k: (loads.append(1), real(self, *a, **k))[1])
    answer = paths.send(client, lean=True, json=household(members=0), headers=api.headers("officer"))
    assert (answer.status_code, answer.reached_flask, len(loads)) == (422, 1, 1)
    assert "members" in answer.get_json()["fields"]


def test_the_access_log_names_the_route(api, app, paths):
    environ = EnvironBuilder(method="POST", path=PATH, json=household(), headers=api.headers("officer")).get_environ()
    seen = {}
    app.wsgi_app(environ, lambda status, headers: seen.setdefault("status", status))
    assert seen["status"] == "201 CREATED" and environ[ROUTE] == PATH and paths.reached_flask == 0


def test_a_chunked_body_is_left_to_the_app(api, app, paths):
    environ = EnvironBuilder(method="POST", path=PATH, json=household(), headers=api.headers("officer")).get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True
    seen = {}
    out = app.wsgi_app(environ, lambda status, headers: seen.setdefault("status", status))
    b"".join(out)
    assert seen["status"] == "201 CREATED" and paths.reached_flask == 1


def test_it_can_be_turned_off(app_config):
    from survey import create_app
    assert not isinstance(create_app({**app_config, "LEAN_SUBMISSIONS": False}).wsgi_app, LeanSubmissions)


def test_a_session_verified_before_is_refused_once_it_has_expired(app, client, browser, paths, monkeypatch):
    headers = _phone(client, browser)
    assert paths.send(client, lean=True, url=f"{PATH}?lang=vi", json=household(), headers=headers).reached_flask == 0
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)  # the kept verification must not outlive the session
    answer = paths.send(client, lean=True, url=f"{PATH}?lang=vi", json=household(), headers=headers)
    assert (answer.reached_flask, answer.status_code) == (1, 401)


def test_a_csrf_token_verified_before_is_refused_past_its_time_limit(app, client, browser, paths, monkeypatch):
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    headers = _phone(client, browser)
    assert paths.send(client, lean=True, url=f"{PATH}?lang=vi", json=household(), headers=headers).reached_flask == 0
    later = time.time() + 2 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    answer = paths.send(client, lean=True, url=f"{PATH}?lang=vi", json=household(), headers=headers)
    assert (answer.reached_flask, answer.status_code) == (1, 400)
