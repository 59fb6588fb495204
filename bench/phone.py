"""Submissions as the officers' phones send them (``survey/static/js/sync.js``, ``send()``).

The phone is signed in through the login form, so it sends the session cookie rather than a
bearer token; every POST carries the session's CSRF token in ``X-CSRF-Token``, the page's
language in ``?lang=``, and the browser's own ``Accept-Encoding``. The bench account (the
Department's, which may write in every commune) signs in, so the phone round posts the very
bodies of the bearer round and only the shape of the request differs.

A browser keeps every cookie the server sends back, and wrk sends one fixed cookie. The
service keeps the ``?lang=`` of a request in the session, so the first submission of a
session without a language answers with a new cookie, which the phone then sends. The
sign-in asks ``/api/v1/session?lang=vi`` and takes the cookie after it: the cookie the phone
holds from its first submission on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import requests

from .generate import PASSWORD, TOKEN_USER
from .load import LoadResult, post_load
from .server import Server

__all__ = ["PATH", "PhoneSession", "login_form", "phone_load", "sign_in", "signed_in"]

LANG = "vi"
PATH = f"/api/v1/households?lang={LANG}"
ACCEPT_ENCODING = "gzip, deflate, br, zstd"  # what Chromium and Firefox send
COOKIE = "survey_session"
_FORM_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class PhoneSession:
    """A signed-in session as the phone holds it: the cookie and the session's CSRF token."""

    cookie: str
    csrf_token: str

    def headers(self) -> dict[str, str]:
        """The headers the phone adds to each POST (post.lua sets Content-Type: application/json)."""
        return {"Cookie": f"{COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf_token,
                "Accept-Encoding": ACCEPT_ENCODING}


def login_form(client: requests.Session, url: str, username: str = TOKEN_USER,
               password: str = PASSWORD) -> requests.Response:
    """One sign-in through the login page: GET it for the form's CSRF token, then POST it."""
    page = client.get(url + "/login", timeout=30).text
    token = _FORM_TOKEN.search(page)
    data = {"username": username, "password": password, "csrf_token": token.group(1) if token else ""}
    return client.post(url + "/login", data=data, allow_redirects=False, timeout=30)


def sign_in(url: str, username: str = TOKEN_USER, password: str = PASSWORD) -> PhoneSession:
    """Sign in as the phone does (each sign-in starts a fresh session), then ask
    ``/api/v1/session`` for the CSRF token, as ``sync.js`` does before it sends (with the
    language its submissions name, kept by the session as the first of them would)."""
    client = requests.Session()
    answer = login_form(client, url, username, password)
    if answer.status_code != 302:
        raise RuntimeError(f"signing in as {username} at {url}/login answered {answer.status_code}, not 302")
    current = client.get(url + f"/api/v1/session?lang={LANG}", timeout=30)
    if current.status_code != 200:
        raise RuntimeError(f"{url}/api/v1/session answered {current.status_code} after signing in, not 200")
    cookie = client.cookies.get(COOKIE)  # the cookie as the session answer left it
    if not cookie:
        raise RuntimeError(f"signing in at {url}/login set no {COOKIE} cookie")
    return PhoneSession(cookie, current.json()["csrf_token"])


def signed_in(server: Server, username: str = TOKEN_USER, password: str = PASSWORD) -> PhoneSession:
    """``sign_in`` to a running ``server`` with the scrypt check's 32 MB left out of its workers'
    peak memory: one sign-in is how the phone starts, not what its submissions cost."""
    server.sample_memory()
    session = sign_in(server.url, username, password)
    server.reset_peaks()
    return session


def phone_load(url: str, bodies: Path, session: PhoneSession, seconds: float, connections: int = 16) -> LoadResult:
    """POST fresh households for ``seconds`` from ``connections`` clients, as the phone sends them."""
    return post_load(url, bodies, "", seconds, connections, path=PATH, headers=session.headers())
