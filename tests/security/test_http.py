"""HTTP-level defences: security headers, session cookies, CSRF on every form, stored secrets."""

from __future__ import annotations

import gzip
import http.client
import json
import re

import pytest
import requests

from survey import create_app
from survey.config import from_environment
from tests.conftest import PASSWORD, Browser, household

FORM_TAG = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def _csp(response) -> dict[str, str]:
    """The Content-Security-Policy as directive -> sources."""
    parts = (p.strip().split(None, 1) for p in response.headers["Content-Security-Policy"].split(";"))
    return {p[0]: (p[1] if len(p) > 1 else "") for p in parts if p and p[0]}


@pytest.mark.parametrize("url", ["/login", "/api/v1/units", "/api/openapi.json", "/healthz",
                                 "/static/app.css", "/no-such-page", "/api/v1/households"])
def test_every_answer_carries_the_security_headers(client, url):
    """Pages, JSON, static files and errors alike: strict CSP, nosniff, no framing."""
    response = client.get(url)
    csp = _csp(response)
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_api_and_exports_are_not_cached(api):
    """Personal data must not linger in a shared cache or the phone's."""
    assert api.get("/api/v1/households").headers["Cache-Control"] == "no-store"
    assert api.get("/exports/households.csv").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role", ["officer", "district", "department"])
def test_pages_have_no_inline_script_or_handlers(browser, role):
    """Nothing on our pages needs 'unsafe-inline': no <script> bodies, no on*= attributes."""
    browser.login(role)
    for url in ("/login", "/form", "/aggregates", "/aggregates?level=hamlet"):
        html = browser.client.get(url).get_data(as_text=True)
        assert not re.search(r"<script\b(?![^>]*\bsrc=)[^>]*>\s*\S", html, re.I), url
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), url
        assert "javascript:" not in html.lower()


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("survey_session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite(browser):
    """Scripts cannot read the session, and other sites cannot ride on it."""
    cookie = _session_cookie(browser.login("officer"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on a laptop in the commune office still works


def test_session_cookie_is_secure_over_tls(client):
    """A request that came over https gets a Secure cookie without any setting."""
    page = client.get("/login", base_url="https://survey.example").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", base_url="https://survey.example",
                           data={"username": "officer", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "Secure" in _session_cookie(response)


def test_secure_cookies_setting_forces_secure(data_dir):
    """SURVEY_SECURE_COOKIES=1 marks the cookie Secure even when TLS ends at a proxy we cannot see."""
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test",
                      **from_environment({"SURVEY_SECURE_COOKIES": "1"})})
    assert "Secure" in _session_cookie(Browser(app.test_client()).login("officer"))


def test_gunicorn_behind_a_tls_proxy_sets_secure_cookies(live_server):
    """X-Forwarded-Proto from the local proxy counts as TLS; from elsewhere gunicorn ignores it."""
    page = requests.get(live_server.url + "/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert "Secure" in page.headers["Set-Cookie"]
    other = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=30,
                                       source_address=("127.0.0.2", 0))
    other.request("GET", "/login", headers={"X-Forwarded-Proto": "https"})
    cookie = other.getresponse().getheader("Set-Cookie")
    other.close()
    assert cookie.startswith("survey_session=") and "Secure" not in cookie


def test_login_starts_a_new_session(browser):
    """A session (and CSRF token) planted before login is not the one used after it."""
    before = browser.csrf()
    browser.login("officer")
    assert browser.csrf("/form") != before


def _forms(html: str) -> list[str]:
    return FORM_TAG.findall(html)


@pytest.mark.parametrize(("role", "url"), [(None, "/login"), ("officer", "/form"),
                                           ("officer", "/aggregates"), ("district", "/aggregates")])
def test_every_html_form_carries_a_csrf_token(browser, role, url):
    """Each POST form on each page has the session's hidden token."""
    if role:
        browser.login(role)
    html = browser.client.get(url).get_data(as_text=True)
    posts = [f for f in _forms(html) if re.search(r'method="post"', f, re.I)]
    assert posts
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # signed: one per page
    for form in posts:
        assert f'name="csrf_token" value="{token}"' in form


@pytest.mark.parametrize("sent", [None, "", "forged-token"])
@pytest.mark.parametrize("url", ["/login", "/logout", "/form"])
def test_posts_without_the_session_token_are_refused(browser, camp, url, sent, data_dir):
    """Missing, empty or wrong CSRF token: 400 and nothing happens."""
    browser.login("officer")
    data = {k: str(v) for k, v in household().items() if k != "reasons_not_installed"}
    data.update(username="officer", password=PASSWORD)
    if sent is not None:
        data["csrf_token"] = sent
    response = browser.client.post(url, data=data)
    assert response.status_code == 400
    assert camp.households.count([4789]) == 0
    assert browser.client.get("/form").status_code == 200  # still signed in (logout refused)


def test_token_from_another_session_is_refused(app, browser):
    """A token lifted from the attacker's own session does not work in the victim's."""
    attacker = Browser(app.test_client())
    attacker.login("officer2")
    stolen = attacker.csrf("/form")
    browser.login("officer")
    data = {k: str(v) for k, v in household().items() if k != "reasons_not_installed"}
    assert browser.client.post("/form", data={**data, "csrf_token": stolen}).status_code == 400


def test_api_with_a_session_cookie_needs_the_csrf_header(browser, camp):
    """A page script may use the API with the session, but only with the X-CSRF-Token header."""
    browser.login("officer")
    record = household()
    assert browser.client.post("/api/v1/households", json=record).status_code == 400
    assert camp.households.count([4789]) == 0
    token = browser.csrf("/form")
    assert browser.client.post("/api/v1/households", json=record,
                               headers={"X-CSRF-Token": token}).status_code == 201


def test_passwords_and_tokens_are_stored_hashed(api, data_dir):
    """users.json holds scrypt hashes, tokens.json sha256 digests: no secret in clear."""
    token = api.headers("officer")["Authorization"][7:]
    users = (data_dir / "users.json").read_text()
    accounts = len(json.loads(users)["users"])
    assert PASSWORD not in users and users.count('"scrypt:') == accounts >= 5
    assert token not in (data_dir / "tokens.json").read_text()
    assert api.get("/api/v1/households", user="officer").status_code == 200


def test_unknown_username_costs_a_password_check_too(camp, monkeypatch):
    """Timing does not tell which usernames exist: a hash is checked either way."""
    import survey.users
    calls = []
    real = survey.users.check_password_hash
    monkeypatch.setattr(survey.users, "check_password_hash", lambda h, p: calls.append(h) or real(h, p))
    assert camp.users.authenticate("nobody-here", PASSWORD) is None
    assert camp.users.authenticate("officer", "wrong password") is None
    assert len(calls) == 2 and calls[0].startswith("scrypt:")


def _writes(app) -> list[tuple[str, str]]:
    """(method, url) of every state-changing route, path arguments filled with a dummy."""
    out = []
    for rule in app.url_map.iter_rules():
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "x", rule.rule)
        out += [(m, url) for m in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"})]
    return out


# Collect's submission takes a key URL or HTTP Basic, never the session cookie: exempt from
# the CSRF check, and a signed-in browser's cookie does not open it (401, a Basic challenge).
_COLLECT = {"openrosa.submission"}


def test_csrf_is_on_for_every_state_changing_route(app, browser):
    """No view has to ask: a route added tomorrow refuses a cookie request without the token."""
    browser.login("department")
    writes = _writes(app)
    collect = {(m, url) for m, url in writes if app.url_map.bind("localhost").match(url, method=m)[0] in _COLLECT}
    assert len(writes) >= 15 and len(collect) == 2  # /openrosa/submission and /openrosa/key/<key>/submission
    refused = {(m, url): browser.client.open(url, method=m, data={"csrf_token": "forged"}).status_code
               for m, url in writes}
    assert refused == {key: 401 if key in collect else 400 for key in writes}


def test_bearer_token_calls_need_no_csrf_token(api):
    """A token request carries no cookie, so nothing rides on it: no CSRF token is asked."""
    assert api.post("/api/v1/households", household()).status_code == 201


@pytest.mark.parametrize("encoding", ["", "gzip, br"])
def test_a_bearer_submission_carries_every_header_and_no_cookie(api, encoding):
    """A phone's submission opens no session (no Set-Cookie, no Vary on Cookie) yet carries the
    security headers, no-store, and Vary on Accept-Encoding; a stored record is too short to compress."""
    r = api.post("/api/v1/households", household(), headers={"Accept-Encoding": encoding})
    assert r.status_code == 201
    assert "Set-Cookie" not in r.headers and r.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in r.headers and r.get_json()["members"] == 4
    assert _csp(r)["default-src"] == "'self'" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cache-Control"] == "no-store"


def test_a_long_answer_is_still_compressed_for_a_client_that_asks(api):
    """The size check in front of Flask-Compress lets a long answer through to it."""
    r = api.get("/api/v1/units", headers={"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and r.headers["Vary"] == "Accept-Encoding"
    assert json.loads(gzip.decompress(r.get_data()))
