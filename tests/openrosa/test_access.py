"""Who may talk to the OpenRosa routes: key URLs, Basic over HTTPS only, throttled, revocable."""

from __future__ import annotations

import base64
import re
import zlib
from html import unescape

import orjson

from survey.openrosa.keys import KEY_FIELD, qr_svg

from ..conftest import PASSWORD, as_user, csrf
from .conftest import Collect, instance_xml, message


def test_no_credentials_or_a_wrong_key_is_401_with_a_challenge(client, collect):
    for phone in (Collect(client, "http://localhost/openrosa"),
                  Collect(client, "http://localhost/openrosa/key/ck_not-a-key")):
        for response in (phone.form_list(), phone.head(), phone.submit(instance_xml())):
            assert response.status_code == 401
            assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
            assert response.headers["X-OpenRosa-Version"] == "1.0"


def test_keys_are_stored_hashed(collect, camp):
    key = collect.server.rsplit("/", 1)[1]
    stored = camp.users.users.get("officer")[KEY_FIELD]
    assert key not in stored and len(stored) == 64


def test_a_new_key_replaces_the_old(client, key_url):
    old = Collect(client, key_url())
    new = Collect(client, key_url())
    assert old.form_list().status_code == 401
    assert new.form_list().status_code == 200


def test_basic_auth_works_over_https_only(client):
    secure = Collect(client, "https://localhost/openrosa", auth=("officer", PASSWORD))
    assert secure.form_list().status_code == 200
    assert secure.submit(instance_xml()).status_code == 201
    clear = Collect(client, "http://localhost/openrosa", auth=("officer", PASSWORD))
    response = clear.form_list()
    assert response.status_code == 403 and "HTTPS" in message(response)
    wrong = Collect(client, "https://localhost/openrosa", auth=("officer", "wrong password"))
    response = wrong.form_list()
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers


def test_wrong_passwords_and_keys_go_through_the_login_throttle(client):
    wrong = Collect(client, "https://localhost/openrosa", auth=("officer", "wrong password"))
    statuses = [wrong.form_list().status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    right = Collect(client, "https://localhost/openrosa", auth=("officer", PASSWORD))
    throttled = right.form_list()
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # the address has spent its tries too: 20 per window, counted for key guesses as well
    guesses = [Collect(client, f"http://localhost/openrosa/key/ck_guess{i}").form_list().status_code
               for i in range(16)]
    assert guesses[:14] == [401] * 14 and guesses[-1] == 429


def test_a_browser_session_does_not_open_the_openrosa_routes(app):
    signed_in = as_user(app, "officer")
    assert signed_in.get("/openrosa/formList").status_code == 401


def test_revoked_key_is_refused_and_only_the_officers_managers_may_revoke(app, client, key_url):
    phone = Collect(client, key_url())
    assert phone.form_list().status_code == 200
    other_district = as_user(app, "district2")
    token = csrf(other_district, "/accounts")
    assert other_district.post("/openrosa/keys/officer/revoke", data={"csrf_token": token}).status_code == 403
    assert phone.form_list().status_code == 200
    district = as_user(app, "district")
    page = district.get("/accounts").get_data(as_text=True)
    assert "/openrosa/keys/officer/revoke" in page
    response = district.post("/openrosa/keys/officer/revoke", data={"csrf_token": csrf(district, "/accounts")})
    assert response.status_code == 302
    assert phone.form_list().status_code == 401
    assert phone.submit(instance_xml()).status_code == 401
    assert "/openrosa/keys/officer/revoke" not in district.get("/accounts").get_data(as_text=True)


def test_revoking_needs_the_csrf_token(app, key_url, client):
    phone = Collect(client, key_url())
    district = as_user(app, "district")
    assert district.post("/openrosa/keys/officer/revoke", data={}).status_code == 400
    assert phone.form_list().status_code == 200


def test_a_deactivated_account_loses_its_key(client, key_url, camp):
    phone = Collect(client, key_url())
    camp.users.update("officer", active=False)
    assert phone.form_list().status_code == 401


def test_setup_page_shows_the_qr_of_collects_settings_once(app, client):
    officer = as_user(app, "officer")
    page = officer.get("/openrosa/setup").get_data(as_text=True)
    assert "chưa có mã Collect" in page and "data:image/svg+xml" not in page
    made = officer.post("/openrosa/setup", data={"csrf_token": csrf(officer, "/openrosa/setup")})
    html = made.get_data(as_text=True)
    assert made.status_code == 200 and 'src="data:image/svg+xml' in html
    url = re.search(r'<input id="collect-url" readonly value="([^"]+)">', html).group(1)
    assert Collect(client, url).form_list().status_code == 200
    payload = re.search(r'data-payload="([^"]+)"', html).group(1)
    src = re.search(r'<img src="([^"]+)"', html).group(1)
    assert unescape(src) == qr_svg(payload)  # the image is the QR code of exactly this payload
    settings = orjson.loads(zlib.decompress(base64.b64decode(payload)))
    assert settings["general"]["server_url"] == url
    assert settings["project"]["name"].startswith("Bluezone")
    assert "data:image/svg+xml" not in officer.get("/openrosa/setup").get_data(as_text=True)


def test_setup_page_is_for_accounts_that_submit(app):
    assert as_user(app, "district").get("/openrosa/setup").status_code == 403
    assert app.test_client().get("/openrosa/setup", headers={"Accept": "text/html"}).status_code == 302


def test_cli_prints_a_working_collect_url(runner, client):
    result = runner.invoke(args=["users", "collect-url", "officer", "--base", "https://survey.example.vn"])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert re.fullmatch(r"https://survey\.example\.vn/openrosa/key/ck_[A-Za-z0-9_-]{43}", url)
    path = url.replace("https://survey.example.vn", "http://localhost")
    assert Collect(client, path).form_list().status_code == 200
    assert runner.invoke(args=["users", "collect-url", "nobody"]).exit_code != 0


COLLECT_ROUTES = [("GET", "/openrosa/formList"), ("GET", "/openrosa/forms/household.xml"),
                  ("GET", "/openrosa/forms/household.xlsx"), ("GET", "/openrosa/forms/household/manifest"),
                  ("HEAD", "/openrosa/submission"), ("POST", "/openrosa/submission")]


def test_the_list_of_collect_routes_is_complete(app):
    every = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith("openrosa.")}
    adapter = app.url_map.bind("localhost")
    listed = {adapter.match(url, method=method)[0] for method, url in COLLECT_ROUTES}
    assert every - listed == {"openrosa.setup", "openrosa.setup_xlsx", "openrosa.revoke_key"}


def test_neither_sessions_nor_bearer_tokens_open_collects_routes(app, api):
    signed_in = as_user(app, "department")
    token = api.headers("department")
    for n, (method, url) in enumerate(COLLECT_ROUTES):
        for client, headers in ((signed_in, {}), (app.test_client(), token)):
            response = client.open(url, method=method, headers=headers)
            assert response.status_code == 401, (method, url)
            assert response.headers["WWW-Authenticate"].startswith("Basic")
        key_url = url.replace("/openrosa/", f"/openrosa/key/ck_wrong{n}/")
        assert app.test_client().open(key_url, method=method).status_code == 401
