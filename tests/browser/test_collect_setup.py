"""The officer's ODK Collect page on a phone: the QR code fits, and its URL lets Collect in."""

import requests

from .test_form_page import login


def test_officer_makes_a_collect_qr_code_on_the_phone(live_server, phone, shot):
    page = phone.new_page()
    login(page, live_server.url, "officer")
    page.click("nav >> text=ODK Collect")
    page.wait_for_url("**/openrosa/setup")
    page.click("text=Tạo mã QR mới")
    qr = page.locator("#collect-qr img")
    qr.wait_for()
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["x"] + box["width"] <= 360  # whole on a 360 px screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate("document.querySelector('#collect-qr img').naturalWidth") > 0  # the SVG decodes
    shot(page, "qr")
    url = page.input_value("#collect-url")
    assert url.startswith(live_server.url + "/openrosa/key/ck_")
    listing = requests.get(url + "/formList", headers={"X-OpenRosa-Version": "1.0"}, timeout=30)
    assert listing.status_code == 200 and "<formID>household</formID>" in listing.text
