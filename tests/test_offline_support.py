"""What the offline form needs from the server: the service worker, the manifest, a clean page
copy to keep, the session endpoint, and the officer's own list of the day."""

from __future__ import annotations

import re
import shutil
import struct

import pytest

from survey import assets
from survey.assets import OFFLINE_ASSETS


def form_page(client):
    return client.get("/form")


def test_service_worker_is_served_from_the_root_with_every_asset(client, browser):
    browser.login("officer")
    sw = client.get("/sw.js")
    assert sw.status_code == 200
    assert sw.mimetype == "text/javascript"
    assert sw.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in sw.headers["Content-Security-Policy"]
    text = sw.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', text).group(1)
    urls = re.findall(r'"(/[^"]+\?v=[0-9a-f]+)"', text)
    assert len(urls) == len(OFFLINE_ASSETS) + 1  # the manifest too
    for url in urls:
        assert url.endswith("?v=" + version)
        assert client.get(url).status_code == 200, url
    # the page asks for exactly the versioned URLs the worker keeps
    page = form_page(client).get_data(as_text=True)
    for name in ("app.css", "js/store.js", "js/sync.js", "js/form.js"):
        assert f"/static/{name}?v={version}" in page


def test_asset_version_changes_with_any_asset(tmp_path, app):
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static)
    version = assets._version.__wrapped__
    before = version(str(static))
    (static / "js" / "form.js").write_text("/* changed */", encoding="utf-8")
    assert version(str(static)) != before


def test_manifest_makes_the_form_installable(client):
    manifest = client.get("/manifest.webmanifest").get_json()
    assert manifest["start_url"] == "/form" and manifest["display"] == "standalone"
    assert manifest["name"] == "Bluezone: phiếu hộ gia đình"
    assert client.get("/manifest.webmanifest?lang=en").get_json()["name"] == "Bluezone household survey"
    sizes = set()
    for icon in manifest["icons"]:
        png = client.get(icon["src"]).data
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add(width)
    assert {192, 512} <= sizes


def test_only_a_clean_form_page_is_marked_for_offline_use(client, browser):
    browser.login("officer")
    assert form_page(client).headers.get("X-Form-Shell") == "1"
    token = browser.csrf("/form")
    # the plain (no script) post: the page after it carries a one-off message, not to be kept
    client.post("/form", data={"csrf_token": token, "commune_code": "4789", "hamlet": "Xóm Mới",
                               "head_name": "Bùi Văn An", "members": "4", "smartphone_users": "2",
                               "installed_before": "1", "installed_during_visit": "1",
                               "visited_on": "2020-08-15"})
    after = form_page(client)
    assert "Bùi Văn An" in after.get_data(as_text=True)
    assert "X-Form-Shell" not in after.headers
    assert form_page(client).headers.get("X-Form-Shell") == "1"


def test_session_endpoint_needs_a_login(client):
    response = client.get("/api/v1/session")
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_session_endpoint_gives_the_token_the_api_accepts(client, browser, make_household):
    browser.login("officer")
    body = client.get("/api/v1/session").get_json()
    assert body["user"]["username"] == "officer" and body["user"]["writable"] == [4789]
    assert client.get("/api/v1/session").headers["Cache-Control"] == "no-store"
    record = make_household()
    assert client.post("/api/v1/households", json=record).status_code == 400  # no token: refused
    sent = client.post("/api/v1/households", json=record, headers={"X-CSRF-Token": body["csrf_token"]})
    assert sent.status_code == 201


@pytest.fixture
def three_records(api, make_household, camp):
    """Two households of `officer` (one visited another day), one of a department user in 4789."""
    mine = make_household(visited_on="2020-08-15")
    other_day = make_household(visited_on="2020-08-14", head_name="Đinh Văn Bình")
    theirs = make_household(visited_on="2020-08-15", head_name="Xa Thị Cúc")
    for record, user in ((mine, "officer"), (other_day, "officer"), (theirs, "department")):
        assert api.post("/api/v1/households", record, user=user).status_code == 201
    return mine, other_day, theirs


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [r["id"] for r in response.get_json()["items"]]


def test_list_filters_officer_me_and_visit_date(api, three_records):
    mine, other_day, theirs = three_records
    assert ids(api.get("/api/v1/households?officer=me", user="officer")) == [mine["id"], other_day["id"]]
    assert ids(api.get("/api/v1/households?officer=me&visited_on=2020-08-15", user="officer")) == [mine["id"]]
    assert ids(api.get("/api/v1/households?visited_on=2020-08-15", user="officer")) == [mine["id"], theirs["id"]]
    assert ids(api.get("/api/v1/households?officer=me", user="department")) == [theirs["id"]]
    body = api.get("/api/v1/households?officer=me&per_page=1&page=2", user="officer").get_json()
    assert body["total"] == 2 and [r["id"] for r in body["items"]] == [other_day["id"]]


def test_list_filters_stay_inside_the_area(api, three_records):
    assert ids(api.get("/api/v1/households?visited_on=2020-08-15", user="officer2")) == []
    assert api.get("/api/v1/households?commune=4789&officer=me", user="officer2").status_code == 403


@pytest.mark.parametrize("query, named", [("officer=officer2", "officer"), ("visited_on=15/08/2020", "visited_on"),
                                          ("visited_on=2020-02-30", "visited_on")])
def test_bad_list_filters_are_named(api, query, named):
    response = api.get(f"/api/v1/households?{query}", user="officer")
    assert response.status_code == 400
    assert named in response.get_json()["message"]
