"""The served XForm in ODK's own engine: ODK Web Forms (@getodk/web-forms, pinned in
tests/browser/webforms/package-lock.json) renders it in Chromium, the test fills it like an
officer, and the submission the engine builds goes back through Collect's exchange.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook

from survey.openrosa.keys import new_key

from ..openrosa.conftest import Collect, message

pytestmark = pytest.mark.browser

WEBFORMS = Path(__file__).resolve().parent / "webforms"
ORIGIN = "http://localhost"  # a secure context: the engine needs crypto.randomUUID for instanceID
TYPES = {".js": "text/javascript", ".html": "text/html", ".css": "text/css", ".json": "application/json"}
SERVER_FIELDS = {"id", "created_at", "updated_at", "officer"}


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


def test_web_forms_renders_the_xform_checks_its_rules_and_its_submission_is_stored_once(
        engine, app, client, camp, api, make_household, shot):
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
    _same_household_everywhere(api, instance_id[5:], twin["id"])


def _same_household_everywhere(api, engine_id: str, api_id: str) -> None:
    """The household from the engine: in the API list once, equal to its JSON API twin, in
    the aggregates and in both exports."""
    items = api.get("/api/v1/households?commune=4789").get_json()["items"]
    by_id = {item["id"]: item for item in items}
    assert len(items) == 2 and set(by_id) == {engine_id, api_id}
    strip = lambda r: {k: v for k, v in r.items() if k not in SERVER_FIELDS}
    assert strip(by_id[engine_id]) == strip(by_id[api_id])

    rows = api.get("/api/v1/aggregates?level=commune&commune=4789").get_json()["rows"]
    (row,) = [r for r in rows if r["code"] == 4789]
    assert row["households"] == 2 and row["members"] == 8 and row["smartphone_users"] == 6

    text = api.get("/exports/households.csv?commune=4789").get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    ids = [r[0] for r in table[1:]]
    assert sorted(ids) == sorted([engine_id, api_id])
    heading = table[0]
    keep = [i for i, name in enumerate(heading) if name not in ("Mã phiếu", "Thời điểm gửi", "Cập nhật")]
    values = {r[0]: [r[i] for i in keep] for r in table[1:]}
    assert values[engine_id] == values[api_id]

    book = load_workbook(io.BytesIO(api.get("/exports/households.xlsx?commune=4789").get_data()), read_only=True)
    cells = [r[0] for r in book.active.iter_rows(values_only=True)][1:]
    assert sorted(cells) == sorted([engine_id, api_id])
