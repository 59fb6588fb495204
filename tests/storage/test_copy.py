"""`flask --app wsgi storage copy --to ...`: TinyDB files to PostgreSQL and back, checked at every level."""

from __future__ import annotations

import pytest

from survey import create_app
from survey.demo import households_for
from survey.storage import TinyDBHouseholds, open_documents
from survey.storage.postgres.households import PostgresHouseholds


@pytest.fixture
def demo(camp):
    """The households of a small demo campaign in the data directory's files."""
    for commune, records in households_for(camp.gazetteer, 400, 7):
        camp.households.bulk_insert(commune, records)
    return camp


def _all(backend, communes) -> dict[str, dict]:
    return {r["id"]: r for r in backend.records(communes)}


def test_copy_to_postgresql_then_again_changes_nothing(demo, runner, pg_url):
    communes = list(demo.gazetteer.communes)
    result = runner.invoke(args=["storage", "copy", "--to", pg_url])
    assert result.exit_code == 0, result.output
    total = demo.households.count(communes)
    assert f"{total} added, 0 replaced, 0 already there" in result.output
    assert "checked: counts and figures match for the province, 10 districts, 151 communes" in result.output
    assert _all(PostgresHouseholds(pg_url), communes) == _all(demo.households.backend, communes)
    assert open_documents({"SURVEY_DATABASE_URL": pg_url}).secret_key() == demo.secret_key()  # nobody signs in again
    again = runner.invoke(args=["storage", "copy", "--to", pg_url])
    assert again.exit_code == 0 and f"0 added, 0 replaced, {total} already there" in again.output


def test_a_copy_run_again_brings_changes_and_moves_over(demo, runner, pg_url):
    communes = list(demo.gazetteer.communes)
    assert runner.invoke(args=["storage", "copy", "--to", pg_url]).exit_code == 0
    code = max(communes, key=lambda c: demo.households.count([c]))
    first, second = list(demo.households.scan(code))[:2]
    demo.households.backend.replace({**first, "members": first["members"] + 1}, code)
    demo.households.backend.replace({**second, "commune_code": 4792 if code != 4792 else 4789}, code)
    result = runner.invoke(args=["storage", "copy", "--to", pg_url])
    assert result.exit_code == 0 and "0 added, 2 replaced" in result.output, result.output
    assert _all(PostgresHouseholds(pg_url), communes) == _all(demo.households.backend, communes)


def test_a_target_holding_more_is_reported_and_not_passed(demo, runner, pg_url):
    assert runner.invoke(args=["storage", "copy", "--to", pg_url]).exit_code == 0
    code = max(demo.gazetteer.communes, key=lambda c: demo.households.count([c]))
    extra = {**next(iter(demo.households.scan(code))), "id": "extra-1"}
    PostgresHouseholds(pg_url).create_once(extra)
    result = runner.invoke(args=["storage", "copy", "--to", pg_url])
    assert result.exit_code != 0
    assert "1 only in the target" in result.output and f"commune {code}:" in result.output
    assert "does not match" in result.output


def test_from_postgresql_back_to_files(demo, runner, pg_url, data_dir, tmp_path):
    communes = list(demo.gazetteer.communes)
    assert runner.invoke(args=["storage", "copy", "--to", pg_url]).exit_code == 0
    on_pg = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", "SURVEY_DATABASE_URL": pg_url})
    back = tmp_path / "back"
    result = on_pg.test_cli_runner().invoke(args=["storage", "copy", "--to", str(back)])
    assert result.exit_code == 0 and "checked: counts and figures match" in result.output, result.output
    assert _all(TinyDBHouseholds(back), communes) == _all(demo.households.backend, communes)
    assert (back / "secret_key").read_text() == on_pg.extensions["survey"].secret_key() == demo.secret_key()
    same = on_pg.test_cli_runner().invoke(args=["storage", "copy", "--to", pg_url])
    assert same.exit_code != 0 and "name the other one" in same.output
