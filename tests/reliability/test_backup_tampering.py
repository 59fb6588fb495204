"""Restore refuses a backup it cannot trust and leaves the running data untouched: a manifest
re-hashed by someone without the key, files that do not parse, records the service could not
read, accounts it never made, symbolic links; backups never land inside the data directory
and never delete what they did not make."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson
import pytest

from tests.conftest import household

from .test_backup import _store, resign


def _backup(runner, api, tmp_path) -> Path:
    _store(api, 2)
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    return tmp_path / "bk"


def _rewrite(backup: Path, rel: str, raw: bytes, data_dir: Path | None) -> None:
    """Replace one file of the backup and fix its hash; re-sign only when given the key's directory."""
    (backup / rel).write_bytes(raw)
    manifest = orjson.loads((backup / "MANIFEST.json").read_bytes())
    manifest["files"][rel] = {**manifest["files"].get(rel, {}), "sha256": hashlib.sha256(raw).hexdigest()}
    if data_dir is not None:
        resign(manifest, data_dir)
    (backup / "MANIFEST.json").write_bytes(orjson.dumps(manifest))


def _snapshot(data_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(data_dir).as_posix(): p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file()
            and not p.name.endswith(".lock")}


def test_an_added_department_account_with_recomputed_hashes_is_refused(api, runner, data_dir, tmp_path, camp):
    backup = _backup(runner, api, tmp_path)
    users = orjson.loads((backup / "users.json").read_bytes())
    users["users"]["intruder"] = {**users["users"]["department"], "username": "intruder"}
    before = _snapshot(data_dir)
    _rewrite(backup, "users.json", orjson.dumps(users), data_dir=None)
    result = runner.invoke(args=["restore", "--force", str(backup)])
    assert result.exit_code != 0 and "not signed by this backup key" in result.output
    assert _snapshot(data_dir) == before and not camp.users.exists("intruder")


@pytest.mark.parametrize(("rel", "raw", "reason"), [
    ("households/4789.json", b"not json at all", "is not a valid data file"),
    ("households/4789.json", orjson.dumps({"households": {"x": {"id": "x", "commune_code": 4789}}}), "lacks"),
    ("users.json", orjson.dumps({"users": {"boss": {"role": "department", "password": "plain", "active": True}}}),
     "not one the service made"),
])
def test_files_the_service_could_not_read_are_refused_even_when_signed(api, runner, data_dir, tmp_path, rel, raw,
                                                                       reason):
    """A hand-edited file signed with the right key is still checked before anything changes."""
    backup = _backup(runner, api, tmp_path)
    before = _snapshot(data_dir)
    _rewrite(backup, rel, raw, data_dir=data_dir)
    result = runner.invoke(args=["restore", "--force", str(backup)])
    assert result.exit_code != 0 and reason in result.output
    assert _snapshot(data_dir) == before
    assert api.get("/api/v1/aggregates?level=province").status_code == 200


def test_a_symlink_in_the_backup_is_refused(api, runner, data_dir, tmp_path):
    backup = _backup(runner, api, tmp_path)
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes((backup / "households" / "4789.json").read_bytes())
    (backup / "households" / "4789.json").unlink()
    os.symlink(outside, backup / "households" / "4789.json")  # same bytes, same hash: only the link is wrong
    before = _snapshot(data_dir)
    result = runner.invoke(args=["restore", "--force", str(backup)])
    assert result.exit_code != 0 and "symbolic link" in result.output
    assert _snapshot(data_dir) == before


def test_a_backup_inside_the_data_directory_is_refused(runner, data_dir):
    result = runner.invoke(args=["backup", str(data_dir / "backups" / "today")])
    assert result.exit_code != 0 and "inside the data directory" in result.output
    assert not (data_dir / "backups").exists()


def test_a_backup_never_deletes_a_sibling_it_did_not_make(api, runner, tmp_path):
    sibling = tmp_path / ".bk.partial"
    sibling.mkdir()
    (sibling / "keep.txt").write_text("someone else's")
    _store(api, 1)
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    assert (sibling / "keep.txt").read_text() == "someone else's"
    assert not [p for p in tmp_path.glob(".bk.*.partial")]


def test_the_backup_key_never_goes_into_a_backup(api, runner, data_dir, tmp_path):
    api.post("/api/v1/households", household())
    assert runner.invoke(args=["backup", str(tmp_path / "bk")]).exit_code == 0
    assert (data_dir / "backup.key").exists() and not (tmp_path / "bk" / "backup.key").exists()
    files = orjson.loads((tmp_path / "bk" / "MANIFEST.json").read_bytes())["files"]
    assert "backup.key" not in files and files["households/4789.json"]["records"] == 1
