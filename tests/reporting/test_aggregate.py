"""Hamlet tallies: two batches added up give exactly the summary of all records at once."""

from __future__ import annotations

import random

import pytest

from survey.demo import household
from survey.reporting.aggregate import hamlet_summary, hamlet_tally, merge_tallies, tally_summary

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def test_merged_tallies_equal_one_summary(camp):
    rng = random.Random(7)
    hamlets = ["Xóm Hòa Sơn", "xóm hoà sơn", "Bản Lác", "Tổ 3"]
    records = [household(4789, 148, rng.choice(hamlets), rng, "xa-4789") for _ in range(300)]
    whole = hamlet_summary(records, camp.form)
    merged = tally_summary(merge_tallies(hamlet_tally(records[:170], camp.form),
                                         hamlet_tally(records[170:], camp.form)), camp.form)
    assert merged.rows == whole.rows and merged.totals == whole.totals
    assert whole.totals["households"] == sum(r["households"] for r in whole.rows) == 300
    assert len({r["key"] for r in whole.rows}) == 3  # "Xóm Hòa Sơn" and "xóm hoà sơn" are one hamlet


def test_an_empty_commune_has_an_empty_summary(camp):
    assert len(tally_summary(merge_tallies({}, hamlet_tally([], camp.form)), camp.form)) == 0
