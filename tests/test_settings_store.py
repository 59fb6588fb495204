"""The campaign settings each submission checks: rebuilt only when the file changed, never stale."""

from __future__ import annotations

import datetime as dt

import pytest

from survey.settings import DEFAULTS, SettingsStore
from survey.storage import open_documents

pytestmark = pytest.mark.each_backend


def test_settings_follow_another_workers_save_and_are_rebuilt_only_on_a_change(app_config, backend):
    mine, other = SettingsStore(open_documents(app_config)), SettingsStore(open_documents(app_config))  # two workers
    first = mine.get()
    assert first.window == DEFAULTS.window  # nothing saved yet
    mine.save({"start": dt.date(2020, 8, 1), "end": dt.date(2020, 8, 30)}, "department", "t1")
    saved = mine.get()
    assert saved.window == (dt.date(2020, 8, 1), dt.date(2020, 8, 30))
    if backend == "tinydb":
        assert mine.get() is saved  # unchanged file: the same settings, not rebuilt
    other.save({"start": dt.date(2020, 8, 2), "end": dt.date(2020, 8, 29)}, "department", "t2")
    assert mine.get().window == (dt.date(2020, 8, 2), dt.date(2020, 8, 29))
    assert mine.get().updated_at == "t2"
