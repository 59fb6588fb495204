"""GET /api/v1/units, /healthz and /api/openapi.json."""

import pytest

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def test_units_tree(client):
    body = client.get("/api/v1/units").get_json()
    assert body["province"] == {"code": 17, "name": "Tỉnh Hòa Bình", "kind": "tỉnh"}
    assert len(body["districts"]) == 10
    assert sum(len(d["communes"]) for d in body["districts"]) == 151


def test_units_search_any_spelling(client):
    for q in ("hoa binh", "Hòa Bình", "Hoà Bình"):
        items = client.get("/api/v1/units", query_string={"q": q, "level": "district"}).get_json()["items"]
        assert [i["code"] for i in items] == [148]
    assert client.get("/api/v1/units?q=x&level=hamlet").status_code == 400


def test_healthz(client):
    assert client.get("/healthz").get_json()["status"] == "ok"


def test_openapi_describes_the_household_body(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    props = spec["components"]["schemas"]["HouseholdInput"]["properties"]
    assert {"commune_code", "hamlet", "members", "reasons_not_installed"} <= set(props)
    assert "/api/v1/aggregates" in spec["paths"]


def test_unknown_api_path_is_json_404(client):
    r = client.get("/api/v1/nothing")
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"
