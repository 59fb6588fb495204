"""Domain refusals answer in one place: the same error is JSON for the API, a page for a browser."""

from __future__ import annotations

from tests.conftest import household


def test_not_found_is_json_on_the_api_and_a_page_in_the_browser(api, browser):
    """One NotFound, two faces: the API names the id, the page speaks the user's language."""
    answer = api.get("/api/v1/households/0000", user="officer")
    assert answer.status_code == 404 and answer.get_json()["error"] == "not_found"
    assert "no household 0000" in answer.get_json()["message"]
    browser.login("officer")
    page = browser.client.get("/households/0000", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Không tìm thấy trang." in page.get_data(as_text=True)


def test_a_conflict_names_the_stored_id(api):
    """The same id with other content: 409 and the id, whatever view raised it."""
    record = household()
    assert api.post("/api/v1/households", record).status_code == 201
    answer = api.post("/api/v1/households", {**record, "members": 9})
    assert answer.status_code == 409 and answer.get_json()["id"] == record["id"]


def test_outside_area_and_bad_input_keep_their_statuses(api):
    """A refusal is 403 with its reason, a malformed request 400 with what is wrong."""
    answer = api.post("/api/v1/households", household(commune_code=4831), user="officer")
    assert answer.status_code == 403 and "commune 4831" in answer.get_json()["message"]
    answer = api.get("/api/v1/households?per_page=0", user="officer")
    assert answer.status_code == 400 and "per_page" in answer.get_json()["message"]
