"""The household form in a real browser on a phone-sized screen."""

from ..conftest import PASSWORD


def login(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")


def test_officer_records_a_household_on_a_phone(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url, "officer")
    page.wait_for_url("**/form")
    shot(page, "1-empty-form")
    assert page.locator("#members").get_attribute("inputmode") == "numeric"
    # nothing sticks out of a 360 px screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.fill("#hamlet", "Xóm Mới")
    page.fill("#head_name", "Bùi Văn An")
    page.fill("#members", "4")
    page.fill("#smartphone_users", "2")
    page.fill("#installed_before", "1")
    page.fill("#installed_during_visit", "1")
    page.check("input[value=no_smartphone]")
    page.click("button[type=submit].primary")
    page.wait_for_selector(".flash.ok")
    shot(page, "2-saved")
    assert "Bùi Văn An" in page.inner_text(".flash.ok")
    assert page.input_value("#hamlet") == "Xóm Mới"      # kept for the next door
    assert page.input_value("#head_name") == ""           # fresh form otherwise
    stored = list(camp.households.records([4789]))
    assert [r["head_name"] for r in stored] == ["Bùi Văn An"]


def test_errors_show_next_to_fields_in_vietnamese(live_server, phone, shot):
    page = phone.new_page()
    login(page, live_server.url, "officer")
    page.wait_for_url("**/form")
    page.fill("#hamlet", "Xóm Mới")
    page.fill("#head_name", "Bùi Văn An")
    page.fill("#members", "2")
    page.fill("#smartphone_users", "3")
    page.fill("#installed_before", "0")
    page.fill("#installed_during_visit", "0")
    page.click("button[type=submit].primary")
    page.wait_for_selector(".field.bad")
    shot(page, "errors")
    assert "Không được lớn hơn số nhân khẩu" in page.inner_text("[data-field=smartphone_users]")
