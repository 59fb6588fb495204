"""GET /api/v1/aggregates, checked against an independent sum over the stored records."""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict

import pytest

from survey.demo import households_for
from survey.text import place_key

from ..conftest import household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

URL = "/api/v1/aggregates"
SUMS = ["members", "smartphone_users", "installed_before", "installed_during_visit"]
REASONS = ["no_smartphone", "unsupported_phone", "no_mobile_data", "declined", "not_home", "other"]


@pytest.fixture
def demo(camp):
    """About 1,500 demo households spread over the province, some communes empty."""
    for commune, records in households_for(camp.gazetteer, 1500, seed=7):
        camp.households.bulk_insert(commune, records)
    return camp


def expected(camp, key) -> dict:
    """Sums by ``key(record)`` computed straight from the stored records, without pandas."""
    out: dict = defaultdict(lambda: defaultdict(int))
    for rec in camp.households.records(camp.gazetteer.communes):
        row = out[key(rec)]
        row["households"] += 1
        for f in SUMS:
            row[f] += rec[f]
        for reason in rec["reasons_not_installed"]:
            row[f"reason_{reason}"] += 1
    return out


def check(row: dict, exp: dict) -> None:
    for col in ["households", *SUMS, *(f"reason_{r}" for r in REASONS)]:
        assert row[col] == exp.get(col, 0), col
    total = exp.get("installed_before", 0) + exp.get("installed_during_visit", 0)
    assert row["installed_total"] == total
    base = exp.get("smartphone_users", 0)
    assert row["coverage_pct"] == (round(total * 100 / base, 1) if base else None)


def test_commune_level_lists_every_commune_and_matches_the_records(api, demo):
    rows = api.get(URL + "?level=commune").get_json()["rows"]
    assert len(rows) == 151
    exp = expected(demo, lambda r: r["commune_code"])
    assert any(r["households"] == 0 for r in rows)  # the gaps are listed
    for row in rows:
        check(row, exp.get(row["code"], {}))


def test_district_and_province_levels_match_the_records(api, demo):
    rows = api.get(URL + "?level=district").get_json()["rows"]
    assert [r["code"] for r in rows] == list(demo.gazetteer.districts)
    exp = expected(demo, lambda r: demo.gazetteer.district_of(r["commune_code"]))
    for row in rows:
        check(row, exp[row["code"]])
    province = api.get(URL + "?level=province").get_json()["rows"]
    assert len(province) == 1
    check(province[0], expected(demo, lambda r: 17)[17])


def test_hamlet_level_folds_spellings_of_one_place(api, camp):
    spellings = ["Xóm Hòa Sơn", "xóm  hoà sơn", unicodedata.normalize("NFD", "Xóm Hoà Sơn"), "Xóm Hòa Sơn"]
    for name in [*spellings, "Bản Lác", "Bản Lạc"]:
        assert api.post("/api/v1/households", household(hamlet=name)).status_code == 201
    rows = api.get(URL + "?level=hamlet&commune=4789").get_json()["rows"]
    by_name = {r["name"]: r["households"] for r in rows}
    assert by_name == {"Xóm Hòa Sơn": 4, "Bản Lác": 1, "Bản Lạc": 1}


def test_hamlet_level_matches_the_records(api, demo):
    rows = api.get(URL + "?level=hamlet&district=148").get_json()["rows"]
    exp = expected(demo, lambda r: (r["commune_code"], place_key(r["hamlet"])))
    inside = {k for k in exp if demo.gazetteer.district_of(k[0]) == 148}
    assert {(r["commune_code"], r["code"].split(":", 1)[1]) for r in rows} == inside
    for row in rows:
        check(row, exp[(row["commune_code"], row["code"].split(":", 1)[1])])


def test_figures_are_current_right_after_a_write(api, demo):
    before = api.get(URL + "?level=province").get_json()["rows"][0]
    stored = api.post("/api/v1/households", household(members=5, smartphone_users=3, installed_before=0,
                                                      installed_during_visit=3))
    assert stored.status_code == 201
    after = api.get(URL + "?level=province").get_json()["rows"][0]
    assert after["households"] == before["households"] + 1
    assert after["installed_during_visit"] == before["installed_during_visit"] + 3


def test_coverage_is_null_without_smartphone_users(api):
    assert api.post("/api/v1/households", household(smartphone_users=0, installed_before=0,
                                                    installed_during_visit=0)).status_code == 201
    row = api.get(URL + "?level=commune&commune=4789").get_json()["rows"][0]
    assert row["coverage_pct"] is None and row["households"] == 1


@pytest.mark.parametrize("user, query, status, count", [
    ("officer", "?level=commune", 200, 1), ("officer", "?level=hamlet", 200, None),
    ("officer", "?level=district", 403, None), ("officer", "?level=commune&district=150", 403, None),
    ("district", "?level=commune", 200, 19), ("district", "?level=district", 200, 1),
    ("district", "?level=province", 403, None), ("district", "?level=commune&district=150", 403, None),
    ("department", "?level=district", 200, 10), ("department", "?level=commune&district=150", 200, 17),
    ("department", "?level=nation", 400, None), (None, "?level=commune", 401, None),
])
def test_scope_by_role(api, user, query, status, count):
    r = api.get(URL + query, user=user)
    assert r.status_code == status
    if count is not None:
        assert len(r.get_json()["rows"]) == count


def test_random_submissions_add_up(api, camp, seed):
    rng = random.Random(seed)
    for _ in range(40):
        m = rng.randint(1, 8)
        s = rng.randint(0, m)
        b = rng.randint(0, s)
        answer = api.post("/api/v1/households", household(commune_code=rng.choice([4789, 4792]), members=m,
                                                          smartphone_users=s, installed_before=b,
                                                          installed_during_visit=rng.randint(0, s - b)),
                          user="department")
        assert answer.status_code == 201, answer.get_json()
    rows = api.get(URL + "?level=district&district=148").get_json()["rows"]
    check(rows[0], expected(camp, lambda r: 148)[148])
