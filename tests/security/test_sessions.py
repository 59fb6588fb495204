"""Sessions and tokens end when they should: reset, deactivation, logout, password change, revoke."""

from __future__ import annotations

import re

import pytest

from ..conftest import PASSWORD, Browser, as_user, csrf

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

COOKIE = "survey_session"
HTML = {"Accept": "text/html"}  # what a browser sends: a page, not a JSON error


def _token_works(client, token: str) -> bool:
    response = client.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 401)
    return response.status_code == 200


def _session_works(client) -> bool:
    response = client.get("/api/v1/session")
    assert response.status_code in (200, 401)
    return response.status_code == 200


def _copy(app, client):
    """A second client holding a copy of ``client``'s session cookie, as a thief would."""
    other = app.test_client()
    other.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return other


def _admin_post(app, url: str, **data):
    admin = as_user(app, "department")
    return admin.post(url, data={**data, "csrf_token": csrf(admin, "/accounts")})


def _new_password(page: str, username: str) -> str:
    return re.search(rf"<td>{username}</td><td><code>([^<]+)</code>", page).group(1)


def test_a_password_reset_ends_the_old_token_and_session(app, camp, client):
    token = camp.users.new_token("officer2")
    officer = as_user(app, "officer2")
    assert _token_works(client, token) and _session_works(officer)
    assert _admin_post(app, "/accounts/officer2/reset").status_code == 200
    assert not _token_works(client, token)
    assert not _session_works(officer)


def test_reactivation_does_not_revive_old_tokens_or_sessions(app, camp, client):
    token = camp.users.new_token("officer2")
    officer = as_user(app, "officer2")
    _admin_post(app, "/accounts/officer2/active", active="0")
    _admin_post(app, "/accounts/officer2/active", active="1")
    assert not _token_works(client, token)
    assert not _session_works(officer)
    assert _token_works(client, camp.users.new_token("officer2"))  # a new one works


def test_a_session_cookie_copied_before_logout_stops_working(app):
    officer = as_user(app, "officer")
    thief = _copy(app, officer)
    assert _session_works(thief)
    assert officer.post("/logout", data={"csrf_token": csrf(officer, "/form")}).status_code == 302
    assert not _session_works(thief)
    assert thief.get("/form", headers=HTML).headers["Location"].startswith("/login")


def test_logout_leaves_the_accounts_api_tokens_alone(app, camp, client):
    token = camp.users.new_token("officer")
    officer = as_user(app, "officer")
    officer.post("/logout", data={"csrf_token": csrf(officer, "/form")})
    assert _token_works(client, token)


def _created(app) -> str:
    """A new officer made on /accounts; its one-time password."""
    page = _admin_post(app, "/accounts", username="xa-moi", full_name="Cán bộ Mới", role="officer",
                       unit="4831").get_data(as_text=True)
    return _new_password(page, "xa-moi")


def test_a_one_time_password_leads_only_to_the_change_page(app, client):
    once = _created(app)
    response = Browser(client).login("xa-moi", once)
    assert response.status_code == 302
    for url in ("/form", "/review", "/aggregates", "/households/x"):
        assert client.get(url, headers=HTML).headers.get("Location", "").endswith("/password"), url
    assert client.get("/api/v1/households").status_code == 403
    page = client.get("/password").get_data(as_text=True)
    assert "chỉ dùng một lần" in page
    response = client.post("/password", data={"current_password": once, "new_password": "mật khẩu mới 2020",
                                              "confirm_password": "mật khẩu mới 2020",
                                              "csrf_token": csrf(client, "/password")})
    assert response.status_code == 302 and response.headers["Location"] == "/form"
    assert client.get("/form").status_code == 200
    fresh = app.test_client()
    assert Browser(fresh).login("xa-moi", once).status_code == 401  # one time only
    assert Browser(fresh).login("xa-moi", "mật khẩu mới 2020").status_code == 302
    assert fresh.get("/form").status_code == 200


def test_a_reset_password_must_be_changed_too(app):
    page = _admin_post(app, "/accounts/officer2/reset").get_data(as_text=True)
    once = _new_password(page, "officer2")
    client = app.test_client()
    Browser(client).login("officer2", once)
    assert client.get("/form", headers=HTML).headers["Location"].endswith("/password")


@pytest.mark.parametrize(("current", "new", "confirm", "words"), [
    ("wrong password", "a new password", "a new password", "Mật khẩu hiện tại không đúng"),
    (PASSWORD, "short", "short", "ít nhất 8 ký tự"),
    (PASSWORD, PASSWORD, PASSWORD, "phải khác"),
    (PASSWORD, "a new password", "another one", "không khớp"),
])
def test_the_change_page_refuses_with_the_reason(app, current, new, confirm, words):
    officer = as_user(app, "officer")
    response = officer.post("/password", data={"current_password": current, "new_password": new,
                                               "confirm_password": confirm, "csrf_token": csrf(officer, "/password")})
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert Browser(app.test_client()).login("officer").status_code == 302  # unchanged


def test_changing_ones_password_ends_other_sessions_and_tokens(app, camp, client):
    token = camp.users.new_token("officer")
    other = as_user(app, "officer")
    officer = as_user(app, "officer")
    response = officer.post("/password", data={"current_password": PASSWORD, "new_password": "a new password",
                                               "confirm_password": "a new password",
                                               "csrf_token": csrf(officer, "/password")})
    assert response.status_code == 302
    assert _session_works(officer)  # the session that changed it goes on
    assert not _session_works(other) and not _token_works(client, token)
    assert Browser(app.test_client()).login("officer").status_code == 401


def test_the_api_changes_ones_password(api, client):
    url = "/api/v1/password"
    assert api.post(url, {"current_password": "wrong one", "new_password": "a new password"}).status_code == 422
    bad = api.post(url, {"current_password": PASSWORD, "new_password": "short"})
    assert bad.status_code == 422 and "8" in bad.get_json()["message"]
    assert api.post(url, {"current_password": PASSWORD}).status_code == 422
    done = api.post(url, {"current_password": PASSWORD, "new_password": "a new password"})
    assert done.status_code == 200 and done.get_json()["changed"] is True
    assert not _token_works(client, api.tokens["officer"])  # the token used ends with the rest


def test_cli_revoke_tokens_ends_tokens_and_sessions(app, camp, runner, client):
    tokens = [camp.users.new_token("officer") for _ in range(2)]
    officer = as_user(app, "officer")
    result = runner.invoke(args=["users", "revoke-tokens", "officer"])
    assert result.exit_code == 0 and "revoked 2 tokens" in result.output
    assert not any(_token_works(client, t) for t in tokens)
    assert not _session_works(officer)
    assert runner.invoke(args=["users", "revoke-tokens", "nobody"]).exit_code != 0
