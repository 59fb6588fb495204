"""Property tests: whatever is accepted obeys the form; aggregates are the sums of what is stored."""

from __future__ import annotations

import datetime as dt
import shutil
import unicodedata
import uuid
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import create_app
from survey.text import bad_characters, place_key

COMMUNES = (4789, 4792, 4831, 4834)  # two in district 148, two in district 150
HAMLETS = ("Xóm Mới", "xóm mới", "Xóm  Mới", "Bản Lác", "Bản Lạc", "Tổ 3", "Hoà Sơn", "Hòa Sơn")
SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def shared(tmp_path_factory, accounts_dir):
    """One app for all examples: its store grows, so each property holds over everything stored."""
    root = tmp_path_factory.mktemp("prop")
    shutil.copytree(accounts_dir, root / "data")
    app = create_app({"SURVEY_DATA_DIR": str(root / "data"), "SECRET_KEY": "test", "TESTING": True})
    token = app.extensions["survey"].users.new_token("department")
    return app, {"Authorization": f"Bearer {token}"}


def _maybe(strategy):
    """A field that is sometimes left out (the ``...`` marker) and sometimes something odd."""
    return st.one_of(strategy, st.just(...), st.none(), st.integers(), st.text(max_size=5),
                     st.floats(allow_nan=False, allow_infinity=False), st.booleans())


count = st.integers(-3, 55)
any_text = st.text(st.characters(codec="utf-8"), max_size=120)
raw_records = st.fixed_dictionaries({
    "id": _maybe(st.uuids().map(str)),
    "commune_code": _maybe(st.sampled_from(COMMUNES + (1, 148, 99999))),
    "hamlet": _maybe(st.one_of(st.sampled_from(HAMLETS), any_text)),
    "head_name": _maybe(any_text),
    "address": _maybe(any_text),
    "members": _maybe(count), "smartphone_users": _maybe(count),
    "installed_before": _maybe(count), "installed_during_visit": _maybe(count),
    "reasons_not_installed": _maybe(st.lists(st.sampled_from(["declined", "other", "not_home", "bribe"]),
                                             max_size=3)),
    "visited_on": _maybe(st.dates(dt.date(2019, 1, 1), dt.date(2031, 1, 1)).map(dt.date.isoformat)),
    "note": _maybe(st.text(max_size=600)),
}).map(lambda r: {k: v for k, v in r.items() if v is not ...})


def _check_text(value: str, spec: dict) -> None:
    assert isinstance(value, str) and unicodedata.is_normalized("NFC", value)
    assert not bad_characters(value) and value == value.strip()
    assert spec.get("min_length", 0) <= len(value) <= spec["max_length"]


def _obeys_the_form(stored: dict, form, gazetteer, today: dt.date) -> None:
    """Every rule of the definition, checked on the stored record itself."""
    for spec in form.fields:
        name, value = spec["name"], stored.get(spec["name"])
        if value is None:
            assert not spec.get("required"), name
            continue
        if spec["type"] == "integer":
            assert type(value) is int and spec["min"] <= value <= spec["max"], name
        elif spec["type"] == "commune":
            assert type(value) is int and value in gazetteer.communes
        elif spec["type"] == "text":
            _check_text(value, spec)
        elif spec["type"] == "date":
            assert dt.date.fromisoformat(value) <= today
            if spec.get("window"):  # the campaign's default window: these tests do not change it
                assert dt.date(2020, 8, 10) <= dt.date.fromisoformat(value) <= dt.date(2020, 8, 25)
        elif spec["type"] == "choices":
            assert set(value) <= set(form.choice_labels(name, "en")) and len(set(value)) == len(value)
        elif spec["type"] == "uuid":
            assert str(uuid.UUID(value)) == value
    for rule in form.rules:
        assert sum(stored[n] for n in rule["sum"]) <= sum(stored[n] for n in rule["at_most"]), rule["field"]
    assert stored["district_code"] == gazetteer.district_of(stored["commune_code"])


@settings(SETTINGS, max_examples=50)
@given(records=st.lists(raw_records, min_size=1, max_size=8))
def test_every_accepted_record_obeys_the_form(shared, records):
    """Random, mostly broken records: each one stored satisfies every rule; refusals store nothing."""
    app, auth = shared
    camp, client, accepted = app.extensions["survey"], app.test_client(), set()
    before = {r["id"] for r in camp.households.records(camp.gazetteer.communes)}
    for record in records:
        response = client.post("/api/v1/households", json=record, headers=auth)
        assert response.status_code in (200, 201, 400, 409, 422), response.get_data(as_text=True)
        if response.status_code in (200, 201):
            accepted.add(response.get_json()["id"])
    stored = list(camp.households.records(camp.gazetteer.communes))
    assert accepted <= {r["id"] for r in stored}
    assert {r["id"] for r in stored} - before <= accepted
    for rec in stored:
        _obeys_the_form(rec, camp.form, camp.gazetteer, camp.today())


@st.composite
def valid_records(draw) -> dict:
    """A record the form accepts: counts drawn so that every cross-field rule holds."""
    members = draw(st.integers(1, 12))
    phones = draw(st.integers(0, members))
    before = draw(st.integers(0, phones))
    return {"id": str(uuid.uuid4()), "commune_code": draw(st.sampled_from(COMMUNES)),
            "hamlet": draw(st.sampled_from(HAMLETS)), "head_name": "Hộ thử",
            "members": members, "smartphone_users": phones, "installed_before": before,
            "installed_during_visit": draw(st.integers(0, phones - before)),
            "visited_on": draw(st.dates(dt.date(2020, 8, 10), dt.date(2020, 8, 25))).isoformat(),
            "reasons_not_installed": draw(st.lists(st.sampled_from(["declined", "other", "not_home"]),
                                                   unique=True, max_size=2))}


SUMS = ("members", "smartphone_users", "installed_before", "installed_during_visit")


def _expected(stored: list[dict], key) -> dict:
    """Per unit (by ``key``): household count, the form's sums and reason counts."""
    out: dict = defaultdict(Counter)
    for rec in stored:
        row = out[key(rec)]
        row["households"] += 1
        for name in SUMS:
            row[name] += rec[name]
        for reason in rec["reasons_not_installed"]:
            row[f"reason_{reason}"] += 1
    return out


def _compare(rows: list[dict], expected: dict, key) -> None:
    got = {key(r): r for r in rows if r["households"]}
    assert set(got) == set(expected)
    for unit, counts in expected.items():
        row = got[unit]
        for name, value in counts.items():
            assert row[name] == value, (unit, name)
        installed = counts["installed_before"] + counts["installed_during_visit"]
        assert row["installed_total"] == installed
        phones = counts["smartphone_users"]
        assert row["coverage_pct"] == (round(installed * 100 / phones, 1) if phones else None)


@settings(SETTINGS, max_examples=20)
@given(records=st.lists(valid_records(), max_size=20))
def test_aggregates_equal_the_sums_of_the_stored_records(shared, records):
    """At every level the figures add up to exactly what the household records say."""
    app, auth = shared
    camp, client = app.extensions["survey"], app.test_client()
    for record in records:
        assert client.post("/api/v1/households", json=record, headers=auth).status_code == 201
    stored = [r for r in camp.households.records(camp.gazetteer.communes) if isinstance(r.get("members"), int)]
    gaz = camp.gazetteer
    keys = {"province": (lambda r: gaz.province.code, lambda row: row["code"]),
            "district": (lambda r: gaz.district_of(r["commune_code"]), lambda row: row["code"]),
            "commune": (lambda r: r["commune_code"], lambda row: row["code"]),
            "hamlet": (lambda r: (r["commune_code"], place_key(r["hamlet"])),
                       lambda row: (row["commune_code"], row["code"].split(":", 1)[1]))}
    for level, (of_record, of_row) in keys.items():
        rows = client.get(f"/api/v1/aggregates?level={level}", headers=auth).get_json()["rows"]
        expected = _expected(stored, of_record)
        if level == "province" and not stored:
            assert rows[0]["households"] == 0
            continue
        _compare(rows, expected, of_row)
