"""The campaign settings each submission checks: rebuilt only when the file changed, never stale."""

from __future__ import annotations

import datetime as dt

from survey.settings import DEFAULTS, SettingsStore


def test_settings_are_rebuilt_only_when_the_file_changes_and_follow_another_workers_save(tmp_path):
    mine, other = SettingsStore(tmp_path), SettingsStore(tmp_path)  # two workers, one data directory
    first = mine.get()
    assert first.window == DEFAULTS.window  # nothing saved yet
    mine.save({"start": dt.date(2020, 8, 1), "end": dt.date(2020, 8, 30)}, "department", "t1")
    saved = mine.get()
    assert saved.window == (dt.date(2020, 8, 1), dt.date(2020, 8, 30))
    assert mine.get() is saved  # unchanged file: the same settings, not rebuilt
    other.save({"start": dt.date(2020, 8, 2), "end": dt.date(2020, 8, 29)}, "department", "t2")
    assert mine.get().window == (dt.date(2020, 8, 2), dt.date(2020, 8, 29))
    assert mine.get().updated_at == "t2"
