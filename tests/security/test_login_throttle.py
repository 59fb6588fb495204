"""Login throttling: per account, per address, shared by every gunicorn worker."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
import requests

from survey import create_app
from survey.config import from_environment
from tests.conftest import PASSWORD, Browser

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def _attempt(browser, username: str, password: str, addr: str = "127.0.0.1"):
    """One login post from ``addr``, with the page's CSRF token."""
    token = browser.csrf()
    return browser.client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": token},
                               environ_base={"REMOTE_ADDR": addr})


def test_account_locked_after_five_failures_even_for_the_right_password(browser):
    """A guesser gets five tries; the sixth is refused before the password is looked at."""
    for _ in range(5):
        assert _attempt(browser, "officer", "wrong password").status_code == 401
    response = _attempt(browser, "officer", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert f"Vui lòng đợi {response.headers['Retry-After']} giây" in response.get_data(as_text=True)
    assert browser.client.get("/form", headers={"Accept": "text/html"}).status_code == 302  # not signed in


def test_lock_on_one_account_leaves_others_alone(browser):
    """Locking officer's account does not stop officer2 from the same address."""
    for _ in range(5):
        _attempt(browser, "officer", "wrong password")
    assert _attempt(browser, "officer", PASSWORD).status_code == 429
    assert _attempt(browser, "officer2", PASSWORD).status_code == 302


def test_address_locked_after_twenty_failures_across_accounts(browser):
    """Spraying many usernames from one address stops at twenty; other addresses go on."""
    for n in range(20):
        assert _attempt(browser, f"guess{n}", "wrong password", "192.0.2.7").status_code == 401
    assert _attempt(browser, "officer", PASSWORD, "192.0.2.7").status_code == 429
    assert _attempt(browser, "officer", PASSWORD, "192.0.2.8").status_code == 302


def test_behind_a_proxy_each_client_address_has_its_own_count(app_config):
    """With SURVEY_PROXY_HOPS=1 the address is the client's from X-Forwarded-For, not the proxy's."""
    app = create_app({**app_config, **from_environment({"SURVEY_PROXY_HOPS": "1"})})
    browser = Browser(app.test_client())

    def attempt(client_addr: str, n: int) -> int:
        token = browser.csrf()
        return browser.client.post("/login", headers={"X-Forwarded-For": client_addr},
                                   data={"username": f"guess{n}", "password": "wrong password",
                                         "csrf_token": token}).status_code
    assert [attempt("203.0.113.5", n) for n in range(21)] == [401] * 20 + [429]
    assert attempt("203.0.113.6", 99) == 401


def test_success_clears_the_account_failures(browser):
    """An officer who mistypes a few times and then gets in starts again from zero."""
    for _ in range(2):
        for _ in range(4):
            assert _attempt(browser, "officer", "wrong password").status_code == 401
        assert _attempt(browser, "officer", PASSWORD).status_code == 302
        browser.client.post("/logout", data={"csrf_token": browser.csrf("/form")})


def test_lock_expires_after_the_window(browser, camp):
    """The lock is temporary: after the window the right password works again."""
    now = [1_000_000.0]
    camp.logins.clock = lambda: now[0]
    for _ in range(5):
        _attempt(browser, "officer", "wrong password")
    assert _attempt(browser, "officer", PASSWORD).status_code == 429
    now[0] += camp.logins.limits.window + 1
    assert _attempt(browser, "officer", PASSWORD).status_code == 302


def test_stored_attempts_hold_no_usernames_or_addresses(browser, camp):
    """What is stored to count attempts identifies no one by itself."""
    _attempt(browser, "officer", "wrong password", "198.51.100.23")
    raw = orjson.dumps(camp.logins.attempts.documents()).decode()
    assert "officer" not in raw and "198.51.100.23" not in raw
    assert re.search(r'"user:[0-9a-f]{32}"', raw)


def _live_attempt(url: str, username: str, password: str) -> int:
    """A login through gunicorn on a fresh connection (so any worker may answer)."""
    with requests.Session() as s:
        page = s.get(url + "/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return s.post(url + "/login", data={"username": username, "password": password,
                                            "csrf_token": token},
                      allow_redirects=False, timeout=30).status_code


def test_limit_holds_across_workers_under_racing_attempts(live_server):
    """Twelve simultaneous guesses spread over three workers: at most five are checked."""
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: _live_attempt(live_server.url, "officer", "wrong password"),
                              range(12)))
    assert sorted(codes) == [401] * 5 + [429] * 7
    assert _live_attempt(live_server.url, "officer", PASSWORD) == 429
