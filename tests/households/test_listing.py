"""The office's household list: filters, accent-free search, pages and scope, on the API and the page."""

from __future__ import annotations

import re

import pytest

from survey import create_app
from survey.households.search_index import CommuneIndex, merge_tallies, search_tally

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

URL = "/api/v1/households"
HOA_HAMLETS = ("Xóm Hoà", "Xóm Hòa", "XÓM HOA", "Xóm Mới")


@pytest.fixture
def seeded(api, make_household):
    """Four households of commune 4789 (hamlets spelt several ways) and one of another district."""
    records = [make_household(hamlet=h, head_name=f"Bùi Văn {n}", visited_on=f"2020-08-1{i}")
               for i, (h, n) in enumerate(zip(HOA_HAMLETS, ("An", "Bình", "Đức", "Hoà")))]
    for r in records:
        assert api.post(URL, r).status_code == 201
    far = make_household(commune_code=4831, head_name="Xa Thị Hoà", hamlet="Bản Lác")
    assert api.post(URL, far, user="department").status_code == 201
    return records, far


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [r["head_name"] for r in response.get_json()["items"]]


def test_search_folds_accents_and_case_on_name_and_hamlet(api, seeded):
    assert names(api.get(URL + "?q=hoa")) == ["Bùi Văn An", "Bùi Văn Bình", "Bùi Văn Đức", "Bùi Văn Hoà",
                                              "Xa Thị Hoà"]
    bui = ["Bùi Văn An", "Bùi Văn Bình", "Bùi Văn Đức", "Bùi Văn Hoà"]
    assert names(api.get(URL + "?q=HOÀ%20bui")) == bui
    assert names(api.get(URL + "?q=duc")) == ["Bùi Văn Đức"]
    assert names(api.get(URL + "?q=nobody")) == []


def test_hamlet_filter_takes_any_spelling_of_the_place(api, seeded):
    assert names(api.get(URL + "?commune=4789&hamlet=xóm hoà")) == ["Bùi Văn An", "Bùi Văn Bình"]
    assert names(api.get(URL + "?hamlet=Xóm Hoa")) == ["Bùi Văn Đức"]  # no tone: another place
    assert names(api.get(URL + "?hamlet=Xóm Mới")) == ["Bùi Văn Hoà"]


def test_officer_visit_date_and_district_filters(api, seeded):
    assert names(api.get(URL + "?officer=officer&visited_on=2020-08-11")) == ["Bùi Văn Bình"]
    assert names(api.get(URL + "?officer=department")) == ["Xa Thị Hoà"]
    assert len(names(api.get(URL + "?district=148"))) == 4
    assert names(api.get(URL + "?district=150")) == ["Xa Thị Hoà"]


def test_review_state_filter(api, app, seeded):
    records, _ = seeded
    camp = app.extensions["survey"]
    camp.flags.flag({**records[1]}, "sai số người", "district", "2020-08-16T08:00:00+07:00")
    assert names(api.get(URL + "?review=open")) == ["Bùi Văn Bình"]
    assert names(api.get(URL + "?review=corrected")) == []
    assert len(names(api.get(URL + "?review=none"))) == 4


def test_pages_split_the_filtered_list(api, seeded):
    body = api.get(URL + "?q=bui&per_page=3&page=2").get_json()
    assert (body["total"], body["pages"], [r["head_name"] for r in body["items"]]) == (4, 2, ["Bùi Văn Hoà"])


def test_district_staff_see_only_their_district(api, seeded):
    assert "Xa Thị Hoà" not in names(api.get(URL + "?q=hoa", user="district"))
    assert api.get(URL + "?commune=4831", user="district").status_code == 403


@pytest.mark.parametrize("query, named", [("review=maybe", "review"), ("q=" + "x" * 101, "q"),
                                          ("officer=officer2", "officer"), ("hamlet=" + "y" * 101, "hamlet")])
def test_bad_filters_are_named(api, query, named):
    response = api.get(f"{URL}?{query}", user="officer")
    assert response.status_code == 400
    assert named in response.get_json()["message"]


def test_openapi_documents_every_filter(client):
    spec = client.get("/api/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/v1/households"]["get"]["parameters"]}
    assert {"district", "commune", "hamlet", "officer", "visited_on", "review", "q", "page",
            "per_page"} <= params


def test_list_page_filters_and_links_each_row_to_its_record(client, browser, seeded):
    records, far = seeded
    browser.login("department")
    page = client.get("/households?q=hoa&commune=4789").get_data(as_text=True)
    links = re.findall(r'href="/households/([0-9a-f-]{36})"', page)
    assert links == [r["id"] for r in records]
    assert "4 hộ" in page
    detail = client.get(f"/households/{links[0]}").get_data(as_text=True)
    assert f'action="/households/{links[0]}/flag"' in detail


def test_list_page_is_for_reviewers_only_and_names_bad_filters(client, browser):
    browser.login("officer")
    assert client.get("/households").status_code == 403
    browser.login("district")
    response = client.get("/households?visited_on=20-08-2020")
    assert response.status_code == 400 and "visited_on" in response.get_data(as_text=True)


def test_list_page_pages_and_plural_in_english(client, browser, api, make_household):
    for i in range(51):
        assert api.post(URL, make_household(head_name=f"Hộ {i:02d}")).status_code == 201
    browser.login("district")
    first = client.get("/households?lang=en").get_data(as_text=True)
    assert "51 households" in first and "Page 1 of 2" in first and 'href="/households?page=2"' in first
    second = client.get("/households?page=2").get_data(as_text=True)
    assert second.count('href="/households/') == 1
    one = client.get("/households?q=ho%2050").get_data(as_text=True)
    assert "1 household<" in one or "1 household " in one


def test_aggregates_rows_link_to_the_filtered_list(client, browser, seeded):
    browser.login("district")
    communes = client.get("/aggregates?level=commune").get_data(as_text=True)
    assert 'href="/households?commune=4789"' in communes
    hamlets = client.get("/aggregates?level=hamlet").get_data(as_text=True)
    assert 'href="/households?commune=4789&amp;hamlet=X%C3%B3m+M%E1%BB%9Bi"' in hamlets


def test_index_tallies_add_up_in_record_order(make_household):
    records = [make_household(hamlet=h, head_name=n, officer=o)
               for h, n, o in (("Xóm Hoà", "Bùi An", "a"), ("Bản Lác", "Xa Bình", "b"),
                               ("xóm hòa", "Lò Cúc", "a"), ("Tổ 3", "Hà Đức", "c"),
                               ("Bản Lác", "Đinh Em", "b"))]
    assert merge_tallies(search_tally(records[:2]), search_tally(records[2:])) == search_tally(records)
    index = CommuneIndex(search_tally(records))
    assert [index.id_at(r) for r in range(5)] == [r["id"] for r in records]
    assert index.row_of(records[3]["id"]) == 3 and index.row_of("no-such-id") is None
    assert index.containing("duc").tolist() == [False, False, False, True, False]


def test_a_new_worker_searches_from_the_kept_index_and_the_log(app, api, make_household, data_dir,
                                                               monkeypatch):
    camp = app.extensions["survey"]
    camp.households.bulk_insert(4789, [{**make_household(head_name="Bùi Văn Cũ"), "officer": "officer",
                                        "created_at": "2020-08-15T08:00:00+07:00",
                                        "updated_at": "2020-08-15T08:00:00+07:00"}])
    assert api.post(URL, make_household(head_name="Bùi Văn Mới")).status_code == 201  # in the log
    fresh = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test", "TESTING": True,
                        "SURVEY_DATABASE_URL": app.config["SURVEY_DATABASE_URL"]})

    def decode_everything(records):
        raise AssertionError("a kept index exists: no commune should be read in full")
    monkeypatch.setattr(CommuneIndex, "of", staticmethod(decode_everything))
    token = fresh.extensions["survey"].users.new_token("department")
    body = fresh.test_client().get(URL + "?q=bui van&commune=4789",
                                   headers={"Authorization": f"Bearer {token}"})
    assert [r["head_name"] for r in body.get_json()["items"]] == ["Bùi Văn Cũ", "Bùi Văn Mới"]
