"""After login, ?next= leads only to a path of this site, whatever encoding tricks it holds."""

from __future__ import annotations

import pytest

from ..conftest import PASSWORD, Browser

OFF_SITE = ["/%09/evil.example/phish", "/%0A/evil.example", "/%0D%0A/evil.example", "/%20/evil.example",
            "//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example/",
            "javascript:alert(1)", "/%E2%80%8B/evil.example", "%09//evil.example", "http:/evil.example"]


def _login(client, next_value: str):
    token = Browser(client).csrf()
    return client.post(f"/login?next={next_value}", data={"username": "officer", "password": PASSWORD,
                                                          "csrf_token": token})


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(client, target):
    """The Location is a path of this site: no scheme, no host, no '//' once a browser strips blanks."""
    response = _login(client, target)
    assert response.status_code == 302
    location = response.headers["Location"]
    stripped = "".join(ch for ch in location if ch.isprintable() and not ch.isspace())
    assert location == "/form", location
    assert not stripped.startswith("//") and "evil" not in stripped


@pytest.mark.parametrize("target, expected", [("/review", "/review"), ("/households/abc?x=1", "/households/abc?x=1"),
                                              ("/%0Aform", "/form")])
def test_login_keeps_a_same_site_next(client, target, expected):
    """A plain path is followed; a stray newline is dropped rather than answered with a 500."""
    response = _login(client, target)
    assert response.status_code == 302
    assert response.headers["Location"] == expected
