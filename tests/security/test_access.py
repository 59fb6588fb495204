"""Role x endpoint: who may read and change what (officer 4789, officer2 4831, district 148,
district2 150, department: the whole province)."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import HTTPException

from tests.conftest import ACCOUNTS, household

BASE_ROLES = ("officer", "officer2", "district", "district2", "department")
# Accounts beyond the five above (reporting agencies) expect each row's last value.
ROLES = BASE_ROLES + tuple(r for r in ACCOUNTS if r not in BASE_ROLES)

# (method, url, body, expected per role in BASE_ROLES order, expected for other roles).
# {id} is a record of commune 4789. Rows whose route this build does not have are dropped.
API = [
    ("GET", "/api/v1/households/{id}", None, (200, 404, 200, 404, 200), 404),
    ("PUT", "/api/v1/households/{id}", "same", (200, 404, 403, 404, 200), 404),
    ("PUT", "/api/v1/households/{id}", "moved", (403, 404, 403, 404, 200), 404),
    ("POST", "/api/v1/households", "new", (201, 403, 403, 403, 201), 403),
    ("POST", "/api/v1/households", "new4831", (403, 201, 403, 403, 201), 403),
    ("GET", "/api/v1/households?commune=4789", None, (200, 403, 200, 403, 200), 403),
    ("GET", "/api/v1/households?district=148", None, (403, 403, 200, 403, 200), 403),
    ("GET", "/api/v1/aggregates?level=hamlet&commune=4789", None, (200, 403, 200, 403, 200), 403),
    ("GET", "/api/v1/aggregates?level=district", None, (403, 403, 200, 200, 200), 403),
    ("GET", "/api/v1/aggregates?level=province", None, (403, 403, 403, 403, 200), 403),
    ("GET", "/api/v1/households/{id}/history", None, (200, 404, 200, 404, 200), 404),
    ("POST", "/api/v1/households/{id}/checked", "empty", (409, 404, 403, 404, 409), 404),
    ("GET", "/api/v1/review/flags", None, (200, 200, 200, 200, 200), 200),
    ("GET", "/api/v1/agency-reports", None, (403, 403, 200, 200, 200), 200),
    ("GET", "/api/v1/agency-reports/summary", None, (403, 403, 200, 200, 200), 200),
    # Roles without an agency are refused first; the others get the validation answer.
    ("POST", "/api/v1/agency-reports", "empty", (403, 403, 422, 422, 422), 422),
    ("GET", "/api/v1/session", None, (200, 200, 200, 200, 200), 200),
    ("POST", "/api/v1/password", "empty", (422, 422, 422, 422, 422), 422),
    ("GET", "/api/v1/settings", None, (200, 200, 200, 200, 200), 200),
    ("PUT", "/api/v1/settings", "empty", (403, 403, 403, 403, 422), 403),
    ("GET", "/exports/aggregates.csv?commune=4789", None, (200, 403, 200, 403, 200), 403),
    ("GET", "/exports/aggregates.xlsx?district=148", None, (403, 403, 200, 403, 200), 403),
    ("GET", "/exports/households.csv", None, (403, 403, 200, 200, 200), 403),
    ("GET", "/exports/households.xlsx?district=148", None, (403, 403, 200, 403, 200), 403),
    ("GET", "/exports/households.json?commune=4789", None, (403, 403, 200, 403, 200), 403),
    ("GET", "/exports/agency-reports.csv", None, (403, 403, 200, 200, 200), 200),
    ("GET", "/exports/province-report.xlsx", None, (403, 403, 403, 403, 200), 403),
]
# Page POSTs send the session's CSRF token and, for "empty", nothing else: allowed roles get
# their validation answer (or the action), the others 403 or 404.
PAGES = [
    ("GET", "/form", None, (200, 200, 403, 403, 200), 403),
    ("POST", "/form", "new", (302, 403, 403, 403, 302), 403),
    ("GET", "/aggregates?level=commune&commune=4789", None, (200, 403, 200, 403, 200), 403),
    ("GET", "/aggregates?level=commune&district=150", None, (403, 403, 403, 200, 200), 403),
    ("GET", "/dashboard", None, (403, 403, 200, 200, 200), 403),
    ("GET", "/households", None, (403, 403, 200, 200, 200), 403),
    ("GET", "/households?district=150", None, (403, 403, 403, 200, 200), 403),
    ("GET", "/households?commune=4789&q=bui", None, (403, 403, 200, 403, 200), 403),
    ("GET", "/households/{id}", None, (200, 404, 200, 404, 200), 404),
    ("GET", "/households/{id}/edit", None, (200, 404, 403, 404, 200), 404),
    ("POST", "/households/{id}/edit", "empty", (422, 404, 403, 404, 422), 404),
    ("POST", "/households/{id}/flag", "empty", (403, 403, 302, 404, 302), 403),
    ("POST", "/households/{id}/checked", "empty", (409, 404, 403, 404, 409), 404),
    ("GET", "/review", None, (200, 200, 200, 200, 200), 200),
    ("POST", "/review/duplicates", "empty", (403, 403, 400, 400, 400), 403),
    ("GET", "/import", None, (200, 200, 403, 403, 200), 403),
    ("POST", "/import", "empty", (422, 422, 403, 403, 422), 403),
    ("GET", "/import/template.xlsx", None, (200, 200, 403, 403, 200), 403),
    # Another account's or an unknown import job: not found, for those who may import at all.
    ("GET", "/import/jobs/AAAAAAAAAAAAAAAA", None, (404, 404, 403, 403, 404), 403),
    ("GET", "/import/jobs/AAAAAAAAAAAAAAAA.json", None, (404, 404, 403, 403, 404), 403),
    ("GET", "/accounts", None, (403, 403, 200, 200, 200), 403),
    ("POST", "/accounts", "empty", (403, 403, 422, 422, 422), 403),
    ("POST", "/accounts/officer2/active", "empty", (403, 403, 403, 302, 302), 403),
    ("POST", "/accounts/officer2/reset", "empty", (403, 403, 403, 200, 200), 403),
    ("GET", "/agencies", None, (403, 403, 403, 403, 200), 403),
    ("POST", "/agencies", "empty", (403, 403, 403, 403, 422), 403),
    ("GET", "/agency-report", None, (403, 403, 200, 200, 200), 200),
    ("POST", "/agency-report", "empty", (403, 403, 422, 422, 422), 422),
    ("GET", "/password", None, (200, 200, 200, 200, 200), 200),
    ("POST", "/password", "empty", (422, 422, 422, 422, 422), 422),
    ("GET", "/settings", None, (403, 403, 403, 403, 200), 403),
    ("POST", "/settings", "empty", (403, 403, 403, 403, 422), 403),
    ("GET", "/openrosa/setup", None, (200, 200, 403, 403, 200), 403),
    ("POST", "/openrosa/setup", "empty", (200, 200, 403, 403, 200), 403),
    ("GET", "/openrosa/setup/household.xlsx", None, (200, 200, 403, 403, 200), 403),
    ("POST", "/openrosa/keys/officer2/revoke", "empty", (403, 403, 403, 302, 302), 403),
]


def _endpoint(app_map, method: str, url: str) -> str | None:
    try:
        return app_map.match(url.format(id="x").split("?")[0], method=method)[0]
    except HTTPException:
        return None


@pytest.fixture
def record(api) -> dict:
    """A household of commune 4789 (Hòa Bình city, district 148), stored by its officer."""
    rec = household()
    assert api.post("/api/v1/households", rec).status_code == 201
    return rec


def _body(kind: str | None, record: dict) -> dict | None:
    return {None: None, "same": {**record, "members": 5}, "moved": {**record, "commune_code": 4831},
            "new": household(), "new4831": household(commune_code=4831), "empty": {}}[kind]


def _cases(table):
    return [pytest.param(m, url, body, role, codes[i] if i < len(codes) else others,
                         id=f"{role}-{m}-{url}-{body}")
            for m, url, body, codes, others in table for i, role in enumerate(ROLES)]


@pytest.mark.parametrize(("method", "url", "body", "role", "expected"), _cases(API))
def test_api_and_exports_by_role(api, record, method, url, body, role, expected):
    """Each role with its bearer token, against each endpoint: allowed, 403, or not visible."""
    response = api.client.open(url.format(id=record["id"]), method=method, json=_body(body, record),
                               headers=api.headers(role))
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize(("method", "url", "body", "role", "expected"), _cases(PAGES))
def test_pages_by_role(browser, record, method, url, body, role, expected):
    """Each role signed in through the login form, against each page."""
    assert browser.login(role).status_code == 302
    data = None
    if method == "POST":
        data = {k: str(v) for k, v in _body(body, record).items() if k != "reasons_not_installed"}
        data["csrf_token"] = browser.csrf("/aggregates")
    response = browser.client.open(url.format(id=record["id"]), method=method, data=data,
                                   headers={"Accept": "text/html"})
    assert response.status_code == expected


ALL_ENDPOINTS = sorted({(m, url) for m, url, _, _, _ in API + PAGES
                        if m == "GET" or url in ("/api/v1/households", "/api/v1/households/{id}", "/form")})


@pytest.mark.parametrize(("method", "url"), ALL_ENDPOINTS)
def test_without_credentials(client, record, method, url):
    """No credentials: the API says 401 with a Bearer challenge; a browser is sent to the login form."""
    response = client.open(url.format(id=record["id"]), method=method, json={} if method != "GET" else None,
                           headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    if url.startswith("/api/"):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    else:
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(("method", "url"),
                         [(m, u) for m, u in ALL_ENDPOINTS if not u.startswith(("/form", "/aggregates"))])
def test_a_wrong_token_is_401_everywhere(client, record, method, url):
    """A revoked or guessed token is refused the same way on the API and the downloads."""
    response = client.open(url.format(id=record["id"]), method=method, json={},
                           headers={"Authorization": "Bearer bz_not-a-real-token"})
    assert response.status_code == 401


def test_each_role_lists_only_its_own_area(api, record):
    """Unfiltered lists are scoped: nothing of another commune or district leaks in."""
    other = household(commune_code=4831)
    assert api.post("/api/v1/households", other, user="department").status_code == 201
    seen = {role: {r["id"] for r in api.get("/api/v1/households", user=role).get_json()["items"]}
            for role in BASE_ROLES}
    assert seen == {"officer": {record["id"]}, "officer2": {other["id"]}, "district": {record["id"]},
                    "district2": {other["id"]}, "department": {record["id"], other["id"]}}


def test_district_household_export_holds_only_its_district(api, record):
    """A district's household download has its own households and no one else's."""
    other = household(commune_code=4831, head_name="Hà Thị Đà Bắc")
    api.post("/api/v1/households", other, user="department")
    text = api.get("/exports/households.csv", user="district").get_data(as_text=True)
    assert record["head_name"] in text and other["head_name"] not in text


PUBLIC = {"static", "healthz", "api.units", "api.openapi", "pages.login", "pages.logout", "pages.index",
          "pages.service_worker", "pages.manifest", "favicon"}
# Collect's routes take only their own credentials (a key URL, or Basic over HTTPS), never a
# session or bearer token: tests/openrosa/test_access.py checks each of them.
OWN_CREDENTIALS = {"openrosa.form_list_view", "openrosa.form_xml", "openrosa.form_xlsx",
                   "openrosa.form_manifest", "openrosa.submission"}


def test_every_row_of_the_matrix_names_a_route(app):
    """A row whose route is gone fails here instead of vanishing from the matrix."""
    adapter = app.url_map.bind("localhost")
    missing = [f"{m} {url}" for m, url, _, _, _ in API + PAGES if _endpoint(adapter, m, url) is None]
    assert missing == []


def test_every_endpoint_is_in_the_matrix(app):
    """A new route must get rows above (or be declared public here) before it ships."""
    adapter = app.url_map.bind("localhost")
    covered = {_endpoint(adapter, m, url) for m, url, _, _, _ in API + PAGES}
    every = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert every - covered - PUBLIC - OWN_CREDENTIALS == set()
