"""`flask backup` and `flask restore`: consistent while writes go on, checked before restoring."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from survey import create_app
from tests.conftest import household

from .conftest import CrashableServer, Ledger, new_record, post, read_stored, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _flask(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """The real command line, as an operator types it."""
    env = {**os.environ, "SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def resign(manifest: dict, data_dir: Path) -> None:
    """Sign a changed manifest with the data directory's own key (an insider with the key)."""
    body = orjson.dumps({"taken_at": manifest["taken_at"], "files": manifest["files"]}, option=orjson.OPT_SORT_KEYS)
    manifest["signature"] = hmac.new((data_dir / "backup.key").read_bytes().strip(), body, hashlib.sha256).hexdigest()


def _store(api, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        record = household()
        assert api.post("/api/v1/households", record).status_code == 201
        ids.append(record["id"])
    return ids


def test_backup_then_restore_into_an_empty_directory(api, runner, data_dir, tmp_path):
    """What was stored comes back byte for byte, accounts and tokens too."""
    ids = _store(api, 3)
    result = runner.invoke(args=["backup", str(tmp_path / "bk")])
    assert result.exit_code == 0 and "3 households" in result.output
    manifest = orjson.loads((tmp_path / "bk" / "MANIFEST.json").read_bytes())
    assert manifest["files"]["households/4789.json"]["records"] == 3
    fresh = tmp_path / "fresh"
    unsigned = _flask(fresh, "restore", str(tmp_path / "bk"))
    assert unsigned.returncode != 0 and "--key-file" in unsigned.stderr  # another directory: the key is elsewhere
    assert _flask(fresh, "restore", "--key-file", str(data_dir / "backup.key"), str(tmp_path / "bk")).returncode == 0
    assert set(read_stored(fresh)) == set(ids)
    assert {"users.json", "tokens.json", "households/4789.json"} <= set(manifest["files"])
    for name in manifest["files"]:
        assert (fresh / name).read_bytes() == (data_dir / name).read_bytes()


def test_backup_refuses_an_existing_path(runner, tmp_path):
    """A backup never overwrites another one."""
    (tmp_path / "bk").mkdir()
    result = runner.invoke(args=["backup", str(tmp_path / "bk")])
    assert result.exit_code != 0 and "exists already" in result.output


def test_restore_keeps_households_unless_forced(api, runner, data_dir, tmp_path):
    """Restoring over live data needs --force; then later records are gone, earlier ones back."""
    before = _store(api, 2)
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    after = _store(api, 2) + [_store_in(api, 4792)]
    refused = runner.invoke(args=["restore", str(tmp_path / "bk")])
    assert refused.exit_code != 0 and "--force" in refused.output
    assert set(read_stored(data_dir)) == set(before + after)
    assert runner.invoke(args=["restore", "--force", str(tmp_path / "bk")]).exit_code == 0
    assert set(read_stored(data_dir)) == set(before)
    assert api.get(f"/api/v1/households/{after[0]}", user="officer").status_code == 404
    assert api.get("/api/v1/households", user="department").status_code == 401  # its token came later


def _store_in(api, commune: int) -> str:
    record = household(commune_code=commune)
    assert api.post("/api/v1/households", record, user="department").status_code == 201
    return record["id"]


def test_damaged_backup_is_refused_and_changes_nothing(api, runner, data_dir, tmp_path):
    """A backup whose file does not match its manifest is not restored, not even in part."""
    ids = _store(api, 2)
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    shard = tmp_path / "bk" / "households" / "4789.json"
    shard.write_bytes(shard.read_bytes().replace("Xóm Mới".encode(), "Xóm Cũ".encode()))
    _store(api, 1)
    result = runner.invoke(args=["restore", "--force", str(tmp_path / "bk")])
    assert result.exit_code != 0 and "damaged" in result.output
    assert len(read_stored(data_dir)) == 3 and set(ids) <= set(read_stored(data_dir))


def test_backup_naming_a_path_outside_the_data_directory_is_refused(api, runner, data_dir, tmp_path):
    """A tampered manifest cannot make restore write anywhere but the data directory."""
    _store(api, 1)
    backup = tmp_path / "deep" / "bk"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    manifest = orjson.loads((backup / "MANIFEST.json").read_bytes())
    (backup / "households" / ".." / ".." / "evil.json").write_bytes(b"{}")
    manifest["files"]["households/../../evil.json"] = {"sha256": hashlib.sha256(b"{}").hexdigest()}
    resign(manifest, data_dir)  # even with the key in hand, the path is refused
    (backup / "MANIFEST.json").write_bytes(orjson.dumps(manifest))
    result = runner.invoke(args=["restore", "--force", str(backup)])
    assert result.exit_code != 0 and "is not a file a backup holds" in result.output
    assert not (data_dir / "households" / ".." / ".." / "evil.json").exists()


def test_backup_of_a_damaged_file_fails_loudly(api, runner, data_dir, tmp_path):
    """A backup never copies a file that does not parse: the operator learns which one."""
    _store(api, 1)
    shard = data_dir / "households" / "4789.json"
    shard.write_bytes(shard.read_bytes()[:-5])
    result = _flask(data_dir, "backup", str(tmp_path / "bk"))  # a fresh process: nothing decoded before
    assert result.returncode != 0 and "4789.json is damaged" in result.stderr
    assert not (tmp_path / "bk").exists() and not list(tmp_path.glob(".bk*"))


def test_backup_onto_a_full_disk_leaves_nothing_half_made(api, runner, small_disk):
    """ENOSPC while copying: a clear error, and no directory that looks like a backup."""
    _store(api, 2)
    small_disk.fill()
    result = runner.invoke(args=["backup", str(small_disk.mount / "bk")])
    assert result.exit_code != 0 and "no backup was made" in result.output
    assert not (small_disk.mount / "bk").exists()
    assert not list(small_disk.mount.glob(".bk*"))


def _writer(url: str, token: str, ledger: Ledger, stop: threading.Event, commune: int) -> None:
    n = 0
    while not stop.is_set():
        record = ledger.next_record(commune, n)
        ledger.answer(record, post(url, token, record))
        n += 1


@pytest.mark.server
def test_backup_while_gunicorn_takes_writes_is_one_consistent_moment(data_dir, tokens, tmp_path):
    """Everything acknowledged before the backup is in it; nothing in it was never acknowledged."""
    server = CrashableServer(data_dir).start()
    ledger, stop = Ledger(), threading.Event()
    writers = [threading.Thread(target=_writer, args=(server.url, tokens["department"], ledger, stop, c))
               for c in (4789, 4789, 4792, 4831)]
    try:
        for t in writers:
            t.start()
        wait_for(lambda: len(ledger.acked) >= 20)
        with ledger.lock:
            acked_before = set(ledger.acked)
        done = _flask(data_dir, "backup", str(tmp_path / "bk"))
        with ledger.lock:
            sent_by_end = set(ledger.acked) | set(ledger.pending)
    finally:
        stop.set()
        for t in writers:
            t.join(30)
        server.stop()
    assert done.returncode == 0, done.stderr
    in_backup = set(read_stored(tmp_path / "bk"))
    assert acked_before <= in_backup <= sent_by_end
    assert len(ledger.acked) > len(acked_before)  # writes really went on around the backup
    _restored_service_serves(tmp_path, tokens, in_backup)


def _restored_service_serves(tmp_path: Path, tokens: dict, in_backup: set) -> None:
    """The app on the restored directory counts exactly the backed-up households and takes new ones."""
    fresh = tmp_path / "restored"
    app = create_app({"SURVEY_DATA_DIR": str(fresh), "SECRET_KEY": "test", "TESTING": True})
    key = ["--key-file", str(tmp_path / "data" / "backup.key")]
    assert app.test_cli_runner().invoke(args=["restore", *key, str(tmp_path / "bk")]).exit_code == 0
    client, auth = app.test_client(), {"Authorization": f"Bearer {tokens['department']}"}
    rows = client.get("/api/v1/aggregates?level=province", headers=auth).get_json()["rows"]
    assert rows[0]["households"] == len(in_backup)
    assert client.post("/api/v1/households", json=new_record(4792), headers=auth).status_code == 201


def test_backup_holds_logged_submissions_and_every_collection(api, runner, data_dir, tmp_path, camp):
    """Submissions still in a commune's change log, review flags and history are all in the copy."""
    ids = _store(api, 2)
    assert (data_dir / "households" / "4789.log").exists()  # acknowledged, not yet compacted
    record = camp.households.get(ids[0], [4789])
    camp.flags.flag(record, "Kiểm tra lại", "district", camp.stamp())
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    files = orjson.loads((tmp_path / "bk" / "MANIFEST.json").read_bytes())["files"]
    assert files["households/4789.json"]["records"] == 2 and "reviews/4789.json" in files
    target = tmp_path / "restored"
    target.mkdir()
    restored = create_app({"SURVEY_DATA_DIR": str(target), "SECRET_KEY": "t"})
    key = ["--key-file", str(data_dir / "backup.key")]
    assert restored.test_cli_runner().invoke(args=["restore", *key, str(tmp_path / "bk")]).exit_code == 0
    camp2 = restored.extensions["survey"]
    assert {r["id"] for r in camp2.households.records([4789])} == set(ids)
    assert camp2.flags.get(ids[0], 4789)["reason"] == "Kiểm tra lại"
