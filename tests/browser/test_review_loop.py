"""The review loop in a real browser: the district sends a record back, the officer fixes it."""

from ..conftest import household
from .test_form_page import login


def test_district_flags_officer_fixes_history_shows_it(live_server, chromium, phone, shot, camp):
    record = {**household(), "district_code": 148, "officer": "officer"}
    camp.households.create(record, lambda: "2020-08-15T09:00:00+07:00")

    desk = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    reviewer = desk.new_page()
    login(reviewer, live_server.url, "district")
    reviewer.goto(f"{live_server.url}/households/{record['id']}")
    reviewer.fill("#reason", "Số nhân khẩu chưa đúng, hộ có 5 người")
    reviewer.click("text=Gửi lại cho cán bộ")
    reviewer.wait_for_selector("#flag")
    shot(reviewer, "1-district-flags")

    officer = phone.new_page()
    login(officer, live_server.url, "officer")
    officer.wait_for_url("**/form")
    officer.click("text=1 phiếu cần sửa")
    assert "Số nhân khẩu chưa đúng" in officer.inner_text("#flags")
    shot(officer, "2-officer-sees-the-reason")
    officer.click("#flags >> text=Sửa")
    officer.fill("#members", "5")
    officer.click("button[type=submit].primary")
    officer.wait_for_selector("#history")
    shot(officer, "3-officer-fixed")
    assert camp.households.get(record["id"], [4789])["members"] == 5

    reviewer.reload()
    assert "Đã sửa sau khi yêu cầu" in reviewer.inner_text("#flag")
    assert "4 → 5" in reviewer.inner_text("#history")
    shot(reviewer, "4-district-sees-history")
    desk.close()
