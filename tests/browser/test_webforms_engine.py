"""The served XForm in ODK's own engine: ODK Web Forms (@getodk/web-forms, pinned in
tests/browser/webforms/package-lock.json) renders it in Chromium, the test fills it like an
officer, and the submission the engine builds goes back through Collect's exchange.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from survey.openrosa.keys import new_key

from ..openrosa.conftest import Collect, message, same_household_everywhere

pytestmark = pytest.mark.browser

WEBFORMS = Path(__file__).resolve().parent / "webforms"
ORIGIN = "http://localhost"  # a secure context: the engine needs crypto.randomUUID for instanceID
TYPES = {".js": "text/javascript", ".html": "text/html", ".css": "text/css", ".json": "application/json"}


def _serve(route) -> None:
    """The static page and node_modules, straight from disk (no server to start)."""
    path = WEBFORMS / route.request.url[len(ORIGIN) + 1:].split("?")[0]
    if not path.is_file() or WEBFORMS not in path.resolve().parents:
        route.fulfill(status=404, body="")
        return
    route.fulfill(status=200, body=path.read_bytes(), content_type=TYPES.get(path.suffix, "application/octet-stream"))


@pytest.fixture
def engine(chromium):
    """A page running ODK Web Forms, waiting for an XForm."""
    if not (WEBFORMS / "node_modules" / "@getodk" / "web-forms").is_dir():
        pytest.fail("ODK Web Forms is not installed: run `make test` (npm ci in tests/browser/webforms)")
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route(ORIGIN + "/**", _serve)
    page.goto(ORIGIN + "/page.html")
    page.wait_for_function("window.webFormsReady === true")
    yield page
    context.close()
    assert errors == []


def _type(box, value: int) -> None:
    """Type into a number box key by key (PrimeVue's InputNumber ignores a pasted value)."""
    box.click()
    box.press("Control+A")
    box.press_sequentially(str(value))
    box.press("Tab")


def _fill(page, head_name: str, members: int, phones: int, before: int, during: int) -> None:
    page.get_by_label("Thôn / xóm / bản / tổ").fill("Xóm Mới")
    page.get_by_label("Họ tên chủ hộ").fill(head_name)
    for box, value in zip(page.locator("input[role=spinbutton]").all(), (members, phones, before, during)):
        _type(box, value)
    page.get_by_label("Không có điện thoại thông minh").check()


def _submitted(page) -> str:
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("window.submissions.length > 0")
    return page.evaluate("window.submissions[0].xml")


@pytest.fixture
def campaign_now(camp):
    """A campaign running today: the engine's default visit date (today) lies in the window."""
    today = camp.today()
    camp.settings.save({"start": today - dt.timedelta(days=10), "end": today, "agency_deadline": today,
                        "province_deadline": today, "target_pct": 50, "stale_days": 3}, "department", "test")


def test_web_forms_renders_the_xform_checks_its_rules_and_its_submission_is_stored_once(
        engine, app, client, camp, api, make_household, shot, campaign_now):
    phone = Collect(client, f"http://localhost/openrosa/key/{new_key(camp, 'officer')}")
    xform = phone.download()  # form list, download and md5 check, as Collect does
    engine.evaluate("xml => window.startForm(xml)", xform.decode("utf-8"))
    engine.get_by_label("Họ tên chủ hộ").wait_for()
    assert engine.locator("h1", has_text="Phiếu hộ gia đình: cài đặt Bluezone").count() >= 1
    assert engine.get_by_label("Phường Thái Bình").is_checked()  # the officer's only commune

    _fill(engine, "Bùi Văn Engine", members=2, phones=3, before=1, during=1)
    engine.get_by_role("button", name="Send").click()
    engine.get_by_text("Không được lớn hơn số nhân khẩu").first.wait_for()  # the rule, in its words
    shot(engine, "rule-broken")
    assert engine.evaluate("window.submissions.length") == 0

    _type(engine.locator("input[role=spinbutton]").nth(0), 4)
    xml = _submitted(engine)
    shot(engine, "sent")
    root = ET.fromstring(xml)
    assert root.get("id") == "household"
    instance_id = root.find(".//{*}instanceID").text
    assert instance_id.startswith("uuid:")

    first = phone.submit(xml.encode("utf-8"))
    assert first.status_code == 201, message(first)
    assert phone.submit(xml.encode("utf-8")).status_code == 202

    twin = make_household(head_name="Bùi Văn Engine", smartphone_users=3, address=..., visited_on=camp.today().isoformat())
    assert api.post("/api/v1/households", twin).status_code == 201
    same_household_everywhere(api, camp, instance_id[5:], twin)
