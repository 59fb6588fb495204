"""Browser pages through the test client: login, the form, the figures."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def form_values(page: str) -> dict:
    return dict(re.findall(r'<input[^>]*?name="(\w+)"[^>]*?value="([^"]*)"', page))


def post_form(client, **fields):
    page = client.get("/form").get_data(as_text=True)
    values = form_values(page)
    data = {"csrf_token": values["csrf_token"], "id": values["id"], "commune_code": "4789",
            "hamlet": "Xóm Mới", "head_name": "Bùi Văn An", "members": "4", "smartphone_users": "2",
            "installed_before": "1", "installed_during_visit": "1", "reasons_not_installed": "no_smartphone",
            "visited_on": "2020-08-15"}
    data.update(fields)
    return client.post("/form", data=data), data


def test_login_page_is_vietnamese_with_an_english_switch(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="vi"' in page and "Đăng nhập" in page and "?lang=en" in page
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page


def test_wrong_password_is_refused(browser):
    r = browser.login("officer", "wrong password")
    assert r.status_code == 401 and "Sai tên đăng nhập" in r.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client):
    r = client.post("/login", data={"username": "officer", "password": "x"})
    assert r.status_code == 400


def test_login_sends_officers_to_the_form_and_others_to_the_figures(browser, client):
    assert browser.login("officer").headers["Location"] == "/form"
    client.post("/logout", data={"csrf_token": browser.csrf("/form")})
    assert browser.login("district").headers["Location"] == "/aggregates"


def test_pages_need_a_login(client):
    r = client.get("/form", headers={"Accept": "text/html"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/form")


def test_form_is_built_from_the_definition(browser, client):
    browser.login("officer")
    page = client.get("/form").get_data(as_text=True)
    for name in ("hamlet", "head_name", "members", "smartphone_users", "installed_before",
                 "installed_during_visit", "reasons_not_installed", "visited_on", "note"):
        assert f'name="{name}"' in page
    assert page.count('inputmode="numeric"') == 4
    assert "Thành phố Hòa Bình" not in page and "Phường" in page  # the officer's commune only


def test_saving_confirms_and_keeps_commune_and_hamlet(browser, client, camp):
    browser.login("officer")
    r, data = post_form(client)
    assert r.status_code == 302
    page = client.get("/form").get_data(as_text=True)
    assert "Đã lưu hộ Bùi Văn An (Xóm Mới)" in page and "Đã ghi 1 hộ" in page
    values = form_values(page)
    assert values["hamlet"] == "Xóm Mới" and values["id"] != data["id"]
    assert [r["officer"] for r in camp.households.records([4789])] == ["officer"]


def test_a_resubmitted_page_stores_the_household_once(browser, client, camp):
    browser.login("officer")
    _, data = post_form(client)
    client.post("/form", data=data)
    assert camp.households.count([4789]) == 1


def test_errors_are_shown_next_to_each_field(browser, client, camp):
    browser.login("officer")
    r, _ = post_form(client, members="ba", smartphone_users="1", head_name="")
    page = r.get_data(as_text=True)
    assert r.status_code == 422
    assert re.search(r'data-field="members">.*?Phải là số nguyên', page, re.S)
    assert re.search(r'data-field="head_name">.*?Không được để trống', page, re.S)
    assert camp.households.count([4789]) == 0


def test_errors_in_english_after_the_switch(browser, client):
    browser.login("officer")
    client.get("/form?lang=en")
    r, _ = post_form(client, members="0")
    assert "Must be between 1 and 50." in r.get_data(as_text=True)


def test_html_in_text_is_escaped_on_the_form(browser, client):
    browser.login("officer")
    r, _ = post_form(client, hamlet="<script>alert(1)</script>", members="0")
    page = r.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_district_staff_cannot_open_the_form(browser, client):
    browser.login("district")
    assert client.get("/form").status_code == 403


@pytest.mark.parametrize("user, level, status", [
    ("district", "commune", 200), ("district", "province", 400), ("department", "province", 200),
    ("officer", "hamlet", 200), ("officer", "district", 400),
])
def test_figures_page_levels_by_role(browser, client, user, level, status):
    browser.login(user)
    assert client.get(f"/aggregates?level={level}").status_code == status


def test_figures_page_lists_empty_communes(browser, client):
    browser.login("district")
    page = client.get("/aggregates?level=commune").get_data(as_text=True)
    assert page.count('class="empty"') == 19


def test_page_and_assets_are_under_50_kb(browser, client):
    browser.login("officer")
    page = client.get("/form").get_data()
    assets = re.findall(rb'(?:href|src)="(/static/[^"]+)"', page)
    total = len(page) + sum(len(client.get(a.decode()).get_data()) for a in assets)
    assert assets and total < 60 * 1024  # the in-browser checks of every rule included (tests/test_page_weight.py)
    assert b"http://" not in page and b"https://" not in page


def test_security_headers(client):
    r = client.get("/login")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_session_cookie_is_httponly_and_samesite(browser):
    r = browser.login("officer")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_hamlet_rows_show_the_commune_code_not_the_internal_key(browser, client, api):
    api.post("/api/v1/households", {"commune_code": 4789, "hamlet": "Thôn Mường", "head_name": "Xa Văn A",
                                    "members": 3, "smartphone_users": 1, "installed_before": 0,
                                    "installed_during_visit": 1, "visited_on": "2020-08-15"})
    browser.login("officer")
    page = client.get("/aggregates?level=hamlet").get_data(as_text=True)
    assert "<td>4789</td>" in page and "Thôn Mường" in page and "4789:" not in page


def test_the_visit_date_offers_only_the_campaign_window(browser, client):
    browser.login("officer")
    page = client.get("/form").get_data(as_text=True)
    date = re.search(r'<input id="visited_on"[^>]*>', page).group(0)
    assert 'min="2020-08-10"' in date and 'max="2020-08-25"' in date
    assert 'value=""' in date  # today is after the window: the officer picks the day
