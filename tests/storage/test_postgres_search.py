"""Household search in PostgreSQL: columns filled by migration 0004 and on every write, no index in a worker."""

from __future__ import annotations

import unicodedata
import uuid

import psycopg
import pytest

from survey import create_app
from survey.households.search_index import SEARCH_INDEX
from survey.storage.matching import Match, hamlet_key, searched_text
from survey.storage.postgres import connection, migrate
from survey.storage.postgres.households import PostgresHouseholds
from survey.text import place_key

OLD_ROWS = [  # as a release before 0004 stored them
    {"id": "h-1", "commune_code": 4789, "head_name": "Bùi Văn Hoà", "hamlet": "Xóm Hòa"},
    {"id": "h-2", "commune_code": 4789, "head_name": unicodedata.normalize("NFD", "Lò Thị Thủy"),
     "hamlet": "Bản Lạc"},
    {"id": "h-3", "commune_code": 4831, "head_name": "Đinh Văn Đức"},  # no hamlet at all
]


def _store_as_0003(url: str) -> None:
    migrate.upgrade(url, "0003_create_once")
    with psycopg.connect(url) as conn:
        for n, record in enumerate(OLD_ROWS, 1):
            conn.execute("INSERT INTO household_communes (commune_code, version, records) VALUES (%s, %s, 1)"
                         " ON CONFLICT (commune_code) DO UPDATE SET version = EXCLUDED.version,"
                         " records = household_communes.records + 1", (record["commune_code"], n))
            conn.execute("INSERT INTO households (id, commune_code, version, record) VALUES (%s, %s, %s, %s)",
                         (record["id"], record["commune_code"], n, psycopg.types.json.Json(record)))
        conn.execute("INSERT INTO household_tallies (commune_code, name, shape, version, tally)"
                     " VALUES (4789, 'search', '1', 2, '{}')")


def test_db_upgrade_fills_the_search_columns_of_rows_stored_before(empty_url, data_dir):
    _store_as_0003(empty_url)
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", "SURVEY_DATABASE_URL": empty_url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with psycopg.connect(empty_url) as conn:
        rows = {key: (text, hamlet) for key, text, hamlet in
                conn.execute("SELECT id, search_text, hamlet_key FROM households")}
        kept = conn.execute("SELECT count(*) FROM household_tallies WHERE name = 'search'").fetchone()[0]
        trigrams = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'").fetchone()[0]
    assert rows == {r["id"]: (searched_text(r), hamlet_key(r)) for r in OLD_ROWS}
    assert rows["h-2"] == ("lo thi thuy\x1fban lac", place_key("Bản Lạc")) and rows["h-3"] == ("dinh van duc\x1f", "")
    assert kept == 0 and trigrams == 1
    store = PostgresHouseholds(empty_url)
    assert [r["id"] for r in store.find(Match((4789, 4831), words=("thuy",)), 0, 10)[1]] == ["h-2"]
    assert store.find(Match((4831, 4789), words=("van",)), 0, 10) == (2, [OLD_ROWS[2], OLD_ROWS[0]])


def test_db_upgrade_names_the_extension_an_account_may_not_create(empty_url, pg_server, data_dir):
    migrate.upgrade(empty_url, "0003_create_once")
    role = f"plain_{uuid.uuid4().hex[:8]}"
    name = psycopg.conninfo.conninfo_to_dict(empty_url)["dbname"]
    with psycopg.connect(empty_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC')
    url = empty_url.replace("postgres@", f"{role}@")
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", "SURVEY_DATABASE_URL": url})
    try:
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code != 0
        assert "may not create the pg_trgm extension" in result.output
        assert f"CREATE EXTENSION pg_trgm;` in database {name}" in result.output
        assert migrate.current(empty_url) == "0003_create_once"  # nothing of 0004 applied
    finally:
        connection.close_pool(url)
        with psycopg.connect(pg_server.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f"DROP ROLE {role}")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_postgresql_worker_holds_no_search_index(app, api, make_household):
    camp = app.extensions["survey"]
    stamp = "2020-08-15T08:00:00+07:00"
    camp.households.bulk_insert(4789, [{**make_household(head_name=f"Bùi Văn {n}"), "officer": "officer",
                                        "created_at": stamp, "updated_at": stamp} for n in ("An", "Bình")])
    assert api.post("/api/v1/households", make_household(head_name="Bùi Văn Hoà")).status_code == 201
    answer = api.get("/api/v1/households?q=bui%20van&commune=4789").get_json()
    assert [r["head_name"] for r in answer["items"]] == ["Bùi Văn An", "Bùi Văn Bình", "Bùi Văn Hoà"]
    api.get("/api/v1/aggregates?level=hamlet")
    kept = camp.households.backend.kept
    assert SEARCH_INDEX not in kept.kinds
    assert not [key for key in (*kept._values, *kept._bases) if key[1] == SEARCH_INDEX]
    assert kept._values  # the aggregates' tallies are still kept: the check above could fail
    with psycopg.connect(app.config["SURVEY_DATABASE_URL"]) as conn:
        assert conn.execute("SELECT name FROM household_tallies WHERE name = %s", (SEARCH_INDEX,)).fetchall() == []
