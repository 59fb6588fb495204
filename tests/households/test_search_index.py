"""The search index's compact columns: packed codes, older kept files, wide columns."""

from __future__ import annotations

import numpy as np

from survey.households.search_index import CommuneIndex, _pack, _unpack, merge_tallies, search_tally
from survey.text import fold


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


def test_uuid_ids_take_sixteen_bytes_and_read_back_the_same(make_household):
    records = _records(make_household, 9)
    index = CommuneIndex(search_tally(records))
    assert index.ids.uuids and index.ids.keys.dtype.itemsize == 16
    assert [index.id_at(r) for r in range(9)] == [r["id"] for r in records]
    assert index.row_of(records[4]["id"]) == 4 and index.row_of(records[4]["id"].upper()) is None
    assert index.row_of("not-an-id") is None
    wanted = {records[1]["id"], records[7]["id"], "6f1c1d1e-0000-4000-8000-00000000ffff"}
    assert np.flatnonzero(index.rows_holding(wanted)).tolist() == [1, 7]


def test_ids_ending_in_zero_bytes_and_ids_that_are_not_uuids(make_household):
    odd = ["6f1c1d1e-0000-4000-8000-000000000000", "6f1c1d1e-0000-4000-8000-000000000100"]
    records = [make_household(id=i) for i in odd]
    index = CommuneIndex(search_tally(records))
    assert index.ids.uuids and [index.id_at(r) for r in range(2)] == odd
    assert [index.row_of(i) for i in odd] == [0, 1]
    text = CommuneIndex(search_tally([{**records[0], "id": "HỘ-1"}, {**records[1], "id": "x"}]))
    assert not text.ids.uuids and [text.id_at(0), text.id_at(1)] == ["HỘ-1", "x"]
    assert text.row_of("x") == 1 and text.row_of("HỘ") is None
    mixed = index.extended(search_tally([{**records[0], "id": "HỘ-2"}]))
    assert [mixed.id_at(r) for r in range(3)] == [*odd, "HỘ-2"] and mixed.row_of("HỘ-2") == 2


def test_an_index_extended_by_later_records_is_the_index_of_all_of_them(make_household):
    records = _records(make_household, 14) + [make_household(hamlet="Xóm Hoà", head_name="Lò Văn Hòa", officer="o9")]
    whole, extended = CommuneIndex(search_tally(records)), CommuneIndex(search_tally(records[:9])).extended(
        search_tally(records[9:]))
    assert extended.size == whole.size == 15
    assert [extended.id_at(r) for r in range(15)] == [r["id"] for r in records]
    assert extended.text.tolist() == whole.text.tolist()
    for word in ("hoa", "ho", "xom 3", "van"):
        assert extended.containing(word).tolist() == whole.containing(word).tolist()
    assert extended.containing("hoa").tolist() == [False] * 14 + [True]
    for column, value in (("hamlets", "xóm hoà"), ("hamlets", "xóm 2"), ("officers", "o9"), ("visits", "2020-08-11")):
        assert getattr(extended, column).equal(value).tolist() == getattr(whole, column).equal(value).tolist()


def test_a_worker_holds_the_built_index_alone_not_the_tally_beside_it(make_household):
    from survey.households.search_index import search_summary
    kept, records = search_summary(), _records(make_household, 6)
    held = kept.held(search_tally(records[:4]))
    assert isinstance(held, CommuneIndex) and kept.finish(held) is held
    grown = kept.finish(kept.added(held, search_tally(records[4:])))
    assert [grown.id_at(r) for r in range(6)] == [r["id"] for r in records]
    assert isinstance(kept.finish(search_tally(records)), CommuneIndex)  # a JSON tally too (PostgreSQL keeps those)


def test_words_of_names_and_hamlets_match_as_in_the_joined_text(make_household):
    """Names are held as text and hamlets by code; a word finds the rows the joined
    "name, hamlet" text found, whatever the tone-mark placement or case of either."""
    spellings = [("Xóm Hoà", "Bùi Văn An"), ("Xóm Hòa", "Lò Thị Hoà"), ("XÓM HOA", "Hà Đức"),
                 ("Bản Lác", "Xa Văn Hòa Bình"), ("Khu Thuỷ", "Đinh Thị Thủy"), ("", "Vì Văn Mới")]
    records = [make_household(hamlet=h, head_name=n) for h, n in spellings]
    index = CommuneIndex(search_tally(records))
    assert index.text.dtype.itemsize == len("xa van hoa binh")  # names only, as wide as the longest
    joined = [f"{fold(r['head_name'])} {fold(r['hamlet'])}" for r in records]
    for word in ("hoa", "xom", "thuy", "lac", "ban", "binh", "duc", "moi", "a", "van", "khu", "xa"):
        assert index.containing(word).tolist() == [word in text for text in joined], word
    assert index.containing("hoa").tolist() == [True, True, True, True, False, False]
