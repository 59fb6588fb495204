"""Account administration: who may manage whom, lists, resets, deactivation, the change log."""

from __future__ import annotations

import io
import re

import pytest

from .conftest import PASSWORD, Browser, as_user, csrf

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL


def new_passwords(page: str) -> dict:
    block = page.split('id="new-passwords"')[1].split("</div>")[0]
    return dict(re.findall(r"<td>([^<]+)</td><td><code>([^<]+)</code>", block))


def test_department_creates_an_officer_who_can_log_in(app, camp):
    admin = as_user(app, "department")
    r = admin.post("/accounts", data={"csrf_token": csrf(admin, "/accounts"), "username": "xa-4792",
                                      "full_name": "Hà Thị Mai", "role": "officer", "unit": "4792"})
    password = new_passwords(r.get_data(as_text=True))["xa-4792"]
    user = camp.users.authenticate("xa-4792", password)
    assert user.role == "officer" and user.communes == frozenset([4792])


@pytest.mark.parametrize("role, unit, ok", [("officer", "4789", True), ("officer", "4831", False),
                                            ("district", "148", False), ("department", "", False)])
def test_district_staff_manage_only_officers_of_their_district(app, camp, role, unit, ok):
    manager = as_user(app, "district")
    r = manager.post("/accounts", data={"csrf_token": csrf(manager, "/accounts"), "username": "new-user",
                                        "full_name": "", "role": role, "unit": unit})
    assert camp.users.exists("new-user") is ok
    assert r.status_code == (200 if ok else 422)


def test_officers_cannot_manage_accounts(app):
    assert as_user(app, "officer").get("/accounts").status_code == 403


def post_list(admin, data: bytes, name: str = "list.csv"):
    return admin.post("/accounts", data={"csrf_token": csrf(admin, "/accounts"), "file": (io.BytesIO(data), name)},
                      content_type="multipart/form-data")


HEADING = "Tên đăng nhập,Họ tên,Vai trò,Mã đơn vị\n"


def test_a_list_creates_every_account(app, camp):
    admin = as_user(app, "department")
    data = (HEADING + "xa-4792,Bùi Văn A,officer,4792\nhuyen-150b,Đinh Thị B,district,150\n").encode()
    r = post_list(admin, data)
    assert r.status_code == 200 and set(new_passwords(r.get_data(as_text=True))) == {"xa-4792", "huyen-150b"}
    assert camp.users.load("huyen-150b").communes == frozenset(camp.gazetteer.communes_of[150])


def test_a_list_with_bad_rows_creates_nothing_and_names_each_bad_row(app, camp):
    admin = as_user(app, "department")
    before = {u["username"] for u in camp.users.all()}
    data = (HEADING + "xa-4792,Bùi Văn A,officer,4792\nhuyen-150b,Đinh Thị B,district,150\n"
            "xa-4789b,Lò Văn C,officer,4789\nbad name,X,officer,4789\nxa-1,Y,officer,1\n"
            "xa-4792,Trùng,officer,4792\n").encode("utf-8")
    r = post_list(admin, data)
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="new-passwords"' not in page
    assert "5. bad name: a username is 2-40 characters" in page
    assert "6. xa-1: role officer needs --unit" in page
    assert "7. xa-4792: user &#39;xa-4792&#39; exists already" in page
    assert "2. xa-4792" not in page and "4. xa-4789b" not in page
    assert {u["username"] for u in camp.users.all()} == before


def test_an_unreadable_list_is_a_4xx_not_a_500(app, camp):
    admin = as_user(app, "department")
    for data, name, reason in [(b"\xff\xfe\x00bad", "list.csv", "not UTF-8"), (b"PK\x03\x04junk", "list.xlsx", "not a valid"),
                               (b"a,b\n", "list.txt", "must be .csv or .xlsx"),
                               ((HEADING + "u1,A,officer,4789\n" * 400).encode(), "list.csv", "more than 301 rows")]:
        r = post_list(admin, data, name)
        assert r.status_code == 422 and reason in r.get_data(as_text=True), name


def test_reset_and_deactivate_are_logged_and_take_effect(app, camp, api):
    token_headers = api.headers("officer")
    admin = as_user(app, "district")
    r = admin.post("/accounts/officer/reset", data={"csrf_token": csrf(admin, "/accounts")})
    password = new_passwords(r.get_data(as_text=True))["officer"]
    assert camp.users.authenticate("officer", PASSWORD) is None
    assert camp.users.authenticate("officer", password) is not None
    admin.post("/accounts/officer/active", data={"csrf_token": csrf(admin, "/accounts"), "active": "0"})
    assert camp.users.authenticate("officer", password) is None
    assert api.client.get("/api/v1/households", headers=token_headers).status_code == 401
    assert Browser(app.test_client()).login("officer", password).status_code == 401
    log = admin.get("/accounts").get_data(as_text=True).split('id="account-log"')[1]
    assert re.search(r"district · deactivate · officer", log) and re.search(r"district · reset_password · officer", log)
    assert password not in log


def test_a_district_cannot_touch_accounts_outside_its_area(app):
    admin = as_user(app, "district")
    token = csrf(admin, "/accounts")
    assert admin.post("/accounts/officer2/reset", data={"csrf_token": token}).status_code == 403
    assert admin.post("/accounts/department/active", data={"csrf_token": token, "active": "0"}).status_code == 403
    assert admin.post("/accounts/nobody/reset", data={"csrf_token": token}).status_code == 404


def test_a_signed_in_deactivated_user_loses_access_at_once(app, camp):
    officer = as_user(app, "officer")
    assert officer.get("/form").status_code == 200
    camp.users.update("officer", active=False)
    assert officer.get("/form", headers={"Accept": "text/html"}).status_code == 302
