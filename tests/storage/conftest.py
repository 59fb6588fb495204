"""Storage fixtures: household records on each backend, with the TinyDB files at hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey.households.records import HouseholdRecords
from survey.storage import TinyDBHouseholds, logged


class Store(HouseholdRecords):
    """Household records on the TinyDB backend, exposing its per-commune files to tests."""

    def __init__(self, data_dir: Path):
        super().__init__(TinyDBHouseholds(data_dir))

    def shard(self, commune_code: int):
        return self.backend.shard(commune_code)

    @property
    def root(self) -> Path:
        return self.backend.root

    def keep_summary(self, name, summary) -> None:
        self.backend.keep_summary(name, summary)


@pytest.fixture
def small_compactions(monkeypatch):
    """Compact the log after a few hundred bytes, so tests see many compactions."""
    monkeypatch.setattr(logged, "COMPACT_MIN_BYTES", 600)
