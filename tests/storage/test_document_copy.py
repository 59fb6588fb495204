"""`storage copy --to` moves the documents too: a campaign moved to PostgreSQL keeps its accounts,
tokens, settings, reviews and history, and a second run writes nothing."""

from __future__ import annotations

from survey import create_app
from tests.conftest import PASSWORD, household


def test_accounts_settings_flags_and_history_move_to_postgresql(camp, runner, pg_url):
    token = camp.users.new_token("officer")
    camp.settings.collection.put("campaign", {"target_pct": 70, "updated_by": "department"})
    record = household(id="3f000000-0000-4000-8000-000000000001")
    camp.history.add(record, {**record, "members": 9}, "officer", "2020-08-15T09:00:00+07:00")
    camp.flags.flag(record, "Kiểm tra lại số người", "district", "2020-08-16T09:00:00+07:00")
    camp.account_log.add("department", "2020-08-14T09:00:00+07:00", "create", "officer")
    first = runner.invoke(args=["storage", "copy", "--to", pg_url])
    assert first.exit_code == 0, first.output
    moved = create_app({"SURVEY_DATA_DIR": str(camp.data_dir / "elsewhere"), "SURVEY_DATABASE_URL": pg_url,
                        "SECRET_KEY": "test"}).extensions["survey"]
    assert moved.users.authenticate("officer", PASSWORD).username == "officer"
    assert moved.users.by_token(token).username == "officer"
    assert moved.settings.get().target_pct == 70
    assert [v["changes"] for v in moved.history.versions(record["id"], [record["commune_code"]])] == [
        {"members": [record["members"], 9]}]
    assert moved.flags.get(record["id"], record["commune_code"])["reason"] == "Kiểm tra lại số người"
    assert [e["action"] for e in moved.account_log.entries(["officer"])] == ["create"]
    again = runner.invoke(args=["storage", "copy", "--to", pg_url])
    assert again.exit_code == 0, again.output
    assert "0 documents written" in again.output


def test_backup_and_restore_refuse_when_everything_is_in_postgresql(data_dir, pg_url, tmp_path):
    """On PostgreSQL the data directory holds none of the campaign: a backup of it would be empty."""
    runner = create_app({"SURVEY_DATA_DIR": str(data_dir), "SURVEY_DATABASE_URL": pg_url,
                         "SECRET_KEY": "test"}).test_cli_runner()
    for args in (["backup", str(tmp_path / "b")], ["restore", str(tmp_path)]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and "pg_dump -Fc" in result.output, result.output
    assert not (tmp_path / "b").exists()
