"""The search index's compact columns: packed codes, older kept files, wide columns."""

from __future__ import annotations

import numpy as np

from survey.households.search_index import CommuneIndex, _pack, _unpack, merge_tallies, search_tally


def _records(make_household, n: int) -> list[dict]:
    return [make_household(hamlet=f"Xóm {i % 4}", head_name=f"Hộ {i}", officer=f"o{i % 3}",
                           visited_on=f"2020-08-{10 + i % 5}") for i in range(n)]


def _as_lists(tally: dict) -> dict:
    """The same tally as kept files written before the codes were packed held it."""
    return {**tally, **{c: [tally[c][0], _unpack(tally[c]).tolist()] for c in ("hamlet", "officer", "visit")}}


def test_an_older_kept_index_with_code_lists_reads_and_merges_the_same(make_household):
    records = _records(make_household, 12)
    new, old = search_tally(records), _as_lists(search_tally(records[:7]))
    assert merge_tallies(old, search_tally(records[7:])) == new
    a, b = CommuneIndex(_as_lists(new)), CommuneIndex(new)
    for column in ("hamlets", "officers", "visits"):
        assert getattr(a, column).codes.tolist() == getattr(b, column).codes.tolist()
    assert a.officers.equal("o1").tolist() == [i % 3 == 1 for i in range(12)]
    assert b.visits.equal("2020-08-12").tolist() == [i % 5 == 2 for i in range(12)]
    assert b.hamlets.equal("no such hamlet").tolist() == [False] * 12


def test_codes_take_two_bytes_and_four_past_65536_values():
    small = _unpack([["a", "b"], _pack([0, 1, 1, 0], 2)])
    assert small.dtype.itemsize == 2 and small.tolist() == [0, 1, 1, 0]
    wide = list(range(70_000))
    unpacked = _unpack([[str(v) for v in wide], _pack(wide, len(wide))])
    assert unpacked.dtype.itemsize == 4 and np.array_equal(unpacked, wide)
