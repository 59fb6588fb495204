"""The office's search finds the same records in TinyDB files and in PostgreSQL, page by page."""

from __future__ import annotations

import unicodedata

import pytest

from survey import create_app
from survey.households.listing import ListQuery, find

NFD = unicodedata.normalize("NFD", "Hoàng Văn Đức")  # as some keyboards type it
PEOPLE = [  # (commune, head name, hamlet)
    (4789, "Bùi Văn Hoà", "Xóm Hoà"), (4789, "Bùi Văn Hòa", "Xóm Hòa"), (4789, "LÒ THỊ THUỶ", "Bản Lác"),
    (4789, "Lò Thị Thủy", "Bản Lạc"), (4831, NFD, "Tổ 3"), (4831, "Nguyễn 50%_Off", "Xóm Mới"),
    (4831, "Đinh Em", "XÓM HOA"), (4789, "Hà Quý", "xóm hòa"), (4831, "Xa Thị Hoạ", "Bản Lác"),
]
COMMUNES = (4831, 4789)  # pages follow the order asked, not the codes'
QUERIES = ["", "hoa", "hoà", "hòa", "HOÀ", unicodedata.normalize("NFD", "hoà"), "hoạ", "thuy", "thuỷ", "thủy",
           "THỦY lò", "duc", "đức", "lac", "lạc", "bùi hoà", "van hoa", "xom", "50%", "%", "_", "_o", "%_o", "\\",
           "quy", "nobody"]
HAMLETS = ["Xóm Hoà", "xóm hòa", "XÓM HOA", "Bản Lạc", "Bản Lác", "ban lac"]


@pytest.fixture
def both(tmp_path, pg_url, make_household) -> dict:
    """The same households stored once in files and once in a database, in the same order."""
    camps = {}
    for name, url in (("tinydb", None), ("postgresql", pg_url)):
        app = create_app({"SURVEY_DATA_DIR": str(tmp_path / name), "SECRET_KEY": "test", "TESTING": True,
                          "SURVEY_DATABASE_URL": url})
        camps[name] = app.extensions["survey"]
    for n, (commune, head, hamlet) in enumerate(PEOPLE):
        record = {**make_household(commune_code=commune, head_name=head, hamlet=hamlet), "id": f"p{n}",
                  "officer": "officer", "created_at": "2020-08-15T08:00:00+07:00",
                  "updated_at": "2020-08-15T08:00:00+07:00"}
        for camp in camps.values():
            assert camp.households.bulk_insert(commune, [record]) == 1
    return camps


def _found(camp, per_page: int = 50, page: int = 1, **query) -> tuple[int, list[str]]:
    found = find(camp, ListQuery(communes=COMMUNES, **query), page, per_page)
    return found.total, [r["id"] for r in found.items]


def test_every_search_finds_the_same_records_on_both_backends(both):
    for q in QUERIES:
        assert _found(both["postgresql"], q=q) == _found(both["tinydb"], q=q), q
    for hamlet in HAMLETS:
        assert _found(both["postgresql"], hamlet=hamlet) == _found(both["tinydb"], hamlet=hamlet), hamlet


@pytest.mark.parametrize("backend_name", ["tinydb", "postgresql"])
def test_both_tone_placements_with_or_without_accents_find_one_set(both, backend_name):
    camp = both[backend_name]
    hoa = _found(camp, q="hoa")
    assert hoa == (6, ["p4", "p6", "p8", "p0", "p1", "p7"])  # "Hoàng" holds "hoa" too
    for q in ("hoà", "hòa", "HOÀ", unicodedata.normalize("NFD", "hoà")):
        assert _found(camp, q=q) == hoa, q
    assert _found(camp, q="thủy") == _found(camp, q="thuỷ") == _found(camp, q="thuy") == (2, ["p2", "p3"])
    assert _found(camp, q="đức") == _found(camp, q="duc") == (1, ["p4"])
    assert _found(camp, q="%") == _found(camp, q="50%") == _found(camp, q="%_o") == _found(camp, q="_o") == (1, ["p5"])
    assert _found(camp, q="\\") == (0, [])
    assert _found(camp, hamlet="Bản Lạc") == (1, ["p3"])  # the tone still tells places apart
    assert _found(camp, hamlet="xóm hoà") == (3, ["p0", "p1", "p7"])  # its placement does not


@pytest.mark.parametrize("backend_name", ["tinydb", "postgresql"])
def test_pages_run_through_the_communes_in_the_order_asked(both, backend_name):
    camp = both[backend_name]
    pages = [_found(camp, per_page=2, page=n) for n in range(1, 6)]
    assert [ids for _, ids in pages] == [["p4", "p5"], ["p6", "p8"], ["p0", "p1"], ["p2", "p3"], ["p7"]]
    assert {total for total, _ in pages} == {9}
    assert _found(camp, per_page=2, page=6) == (9, [])
