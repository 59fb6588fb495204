"""The kernel's change counts per commune (inotify), behind the aggregates' change token."""

from __future__ import annotations

import multiprocessing
import os

from survey.storage import watch
from survey.storage.watch import ChangeWatch


def _append(path: str) -> None:
    with open(path, "ab") as fh:
        fh.write(b'["put","a",{}]\n')
        os.fdatasync(fh.fileno())


def test_a_write_by_another_process_changes_only_its_communes_token(tmp_path):
    changes = ChangeWatch(tmp_path)
    before = changes.token([4789, 4792])
    assert before is not None
    proc = multiprocessing.get_context("spawn").Process(target=_append, args=(str(tmp_path / "4789.log"),))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    after = changes.token([4789, 4792])
    assert after != before
    assert after[2] == before[2]  # 4792 untouched
    assert changes.token([4792]) == (before[0], before[2])


def test_a_snapshot_renamed_into_place_counts_and_other_files_do_not(tmp_path):
    changes = ChangeWatch(tmp_path)
    before = changes.token([17])
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".17.json.tmp").write_text("{}")
    assert changes.token([17]) == before  # a temporary file is not the commune's data yet
    os.replace(tmp_path / ".17.json.tmp", tmp_path / "17.json")
    assert changes.token([17]) != before


def test_no_token_once_the_directory_is_gone_or_without_inotify(tmp_path, monkeypatch):
    folder = tmp_path / "households"
    folder.mkdir()
    changes = ChangeWatch(folder)
    assert changes.token([1]) is not None
    os.rmdir(folder)
    assert changes.token([1]) is None
    monkeypatch.setattr(watch, "_inotify", lambda: None)
    assert ChangeWatch(tmp_path).token([1]) is None
