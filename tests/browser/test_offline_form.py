"""The offline-first form in a real browser: the outbox, sending, a lost login, server reasons.

Each test waits on what the page shows or what the server holds, never on a fixed delay.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid

import pytest

from ..conftest import PASSWORD

COMMUNE = 4789
VISIT_DAY = "2020-08-15"  # the phone's clock day in these tests (conftest.CAMPAIGN_DAY)


@pytest.fixture(autouse=True)
def no_script_errors(phone):
    """No uncaught script error and nothing the page's CSP refused, on any page of the test."""
    problems: list[str] = []
    phone.on("weberror", lambda e: problems.append(f"uncaught: {e.error}"))
    phone.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    yield
    assert problems == []


def login(page, base: str, username: str = "officer") -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/form")


def fill(page, name: str, members: int = 4, smartphones: int = 2, before: int = 1, during: int = 1) -> None:
    page.fill("#hamlet", "Xóm Mới")
    page.fill("#head_name", name)
    page.fill("#members", str(members))
    page.fill("#smartphone_users", str(smartphones))
    page.fill("#installed_before", str(before))
    page.fill("#installed_during_visit", str(during))
    page.fill("#visited_on", VISIT_DAY)  # a day of the campaign's window (10-25/8/2020)


def save(page, name: str) -> None:
    """Save and wait until the page confirms it kept the household (on the phone or the server)."""
    page.click("button[type=submit].primary")
    page.wait_for_function("name => document.getElementById('status').textContent.includes(name)", arg=name)


def wait_count(page, n: int, timeout: float = 30_000) -> None:
    page.wait_for_function("n => document.getElementById('outbox-count').textContent === String(n)",
                           arg=n, timeout=timeout)


def outbox_ids(page) -> list[str]:
    return page.eval_on_selector_all("#outbox-list li[data-id]", "els => els.map(e => e.dataset.id)")


def stored(camp) -> dict[str, dict]:
    return {r["id"]: dict(r) for r in camp.households.records([COMMUNE])}


def ready_for_offline(page) -> None:
    """The page says the form is cached, and the service worker controls the page."""
    page.wait_for_selector("#offline-ready", state="visible")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def settled(page) -> None:
    """Wait for a whole sending pass that starts now (and any asked for meanwhile) to finish."""
    page.evaluate("() => BZ.sync.run(true)")


def requests_logged(server) -> list[str]:
    """Paths gunicorn has answered so far, from its access log."""
    server.log.flush()
    text = open(server.log.name, encoding="utf-8", errors="replace").read()
    return re.findall(r'"(?:GET|POST|PUT) ([^" ]+)"', text)


def test_1_online_save_is_on_the_server(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url)
    shot(page, "1-form")
    fill(page, "Bùi Văn An")
    page.check("input[value=no_smartphone]")
    save(page, "Bùi Văn An")
    page.wait_for_selector(".flash.ok")
    wait_count(page, 0)
    page.wait_for_selector("#today-list li[data-state=sent]")
    shot(page, "2-saved-and-sent")
    records = list(stored(camp).values())
    assert [r["head_name"] for r in records] == ["Bùi Văn An"]
    assert records[0]["officer"] == "officer"
    assert records[0]["reasons_not_installed"] == ["no_smartphone"]
    assert uuid.UUID(records[0]["id"]).version == 4  # the id made on the phone at save time
    assert page.input_value("#hamlet") == "Xóm Mới"
    assert page.input_value("#head_name") == ""


def test_2_offline_saves_survive_an_offline_reload(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    phone.set_offline(True)
    before = len(requests_logged(live_server))
    page.wait_for_selector("#net-offline", state="visible")
    for name in ("Hà Văn Một", "Đinh Thị Hai", "Xa Văn Ba"):
        fill(page, unicodedata.normalize("NFD", name))  # as some phone keyboards type it
        save(page, name)
    wait_count(page, 3)
    kept = page.evaluate("() => BZ.store.all('outbox').then(items => items.map(i => i.record.head_name))")
    assert sorted(kept) == sorted(["Hà Văn Một", "Đinh Thị Hai", "Xa Văn Ba"])  # kept as NFC
    shot(page, "1-three-queued-offline")
    ids = outbox_ids(page)
    assert len(set(ids)) == 3
    page.reload()
    page.wait_for_selector("#household-form")
    wait_count(page, 3)
    shot(page, "2-reloaded-offline")
    assert sorted(outbox_ids(page)) == sorted(ids)
    assert page.locator("#outbox-list li[data-state=waiting]").count() == 3
    assert page.locator("#today-list li[data-state=waiting]").count() == 3
    # the reload was answered on the phone: nothing reached the server while offline
    assert requests_logged(live_server)[before:] == []
    assert stored(camp) == {}


def test_3_back_online_each_arrives_exactly_once(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    phone.set_offline(True)
    names = ["Hà Văn Một", "Đinh Thị Hai", "Xa Văn Ba"]
    for name in names:
        fill(page, name)
        save(page, name)
    wait_count(page, 3)
    ids = outbox_ids(page)
    page.reload()
    wait_count(page, 3)
    shot(page, "1-offline-three-waiting")
    phone.set_offline(False)
    # sent by itself: on the "online" event, or at the latest by the next look for a network (10 s)
    wait_count(page, 0, timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('#today-list li[data-state=sent]').length === 3")
    shot(page, "2-online-all-sent")
    assert page.inner_text("#outbox-count") == "0"
    records = stored(camp)
    assert sorted(records) == sorted(ids)
    assert sorted(r["head_name"] for r in records.values()) == sorted(names)
    # sending all of them again (as a retry after a lost answer would) still stores each once
    page.evaluate("""async () => {
      const sent = await BZ.store.all('sent');
      for (const s of sent) {
        const {district_code, officer, created_at, updated_at, ...record} = s.record;
        await BZ.store.put('outbox', {id: s.id, record, mode: 'create', state: 'waiting', errors: {},
                                      message: '', tries: 0, next: 0, saved: Date.now()});
      }
      await BZ.sync.run(true);
    }""")
    wait_count(page, 0)
    assert sorted(stored(camp)) == sorted(ids)
    assert sum(1 for _ in camp.households.records([COMMUNE])) == 3


def test_4_expired_login_loses_nothing_and_sends_after_login(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    phone.set_offline(True)
    for name in ("Hà Văn Một", "Đinh Thị Hai"):
        fill(page, name)
        save(page, name)
    wait_count(page, 2)
    ids = outbox_ids(page)
    phone.clear_cookies()  # the session is gone, as when it expires
    phone.set_offline(False)
    page.wait_for_selector("#relogin", state="visible")
    shot(page, "1-login-expired")
    assert page.inner_text("#outbox-count") == "2"
    assert stored(camp) == {}
    page.fill("#head_name", "Lò Văn Nửa")  # the next household, half entered when the login ran out
    page.click("#relogin a")
    page.wait_for_url("**/login**")
    shot(page, "2-login-page")
    page.fill("#username", "officer")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/form")
    wait_count(page, 0)
    assert page.locator("#relogin").is_hidden()
    shot(page, "3-sent-after-login")
    assert sorted(stored(camp)) == sorted(ids)
    assert page.input_value("#head_name") == "Lò Văn Nửa"  # the half-entered household is still there


def narrow_window_to(camp, last: str) -> None:
    """The Department moves the last day of visits, after the phone loaded its rules."""
    values = {k: getattr(camp.settings.get(), k) for k in ("start", "agency_deadline", "province_deadline",
                                                          "target_pct", "stale_days")}
    camp.settings.save({**values, "end": dt.date.fromisoformat(last)}, "department", "t")


def test_5_a_household_the_server_refuses_is_shown_apart_to_fix(live_server, phone, shot, camp):
    """The phone checks with the rules it holds; the server stays the authority. What it refuses
    waits under "Cần sửa" with the server's reasons, is not counted as recorded today, and opens
    for correction."""
    page = phone.new_page()
    login(page, live_server.url)
    narrow_window_to(camp, "2020-08-14")  # the phone still holds 10-25/8; today on the phone is 15/8
    fill(page, "Bùi Văn An")
    page.click("button[type=submit].primary")
    page.wait_for_selector("#to-fix-list li[data-state=rejected]")
    shot(page, "1-refused-by-the-server")
    assert "Phải trong thời gian chiến dịch, từ 10/08/2020 đến 14/08/2020." in page.inner_text(
        "#to-fix-list li[data-state=rejected] small")
    assert page.inner_text("#to-fix-count") == "1" and page.inner_text("#outbox-count") == "0"
    assert page.inner_text("#today-count") == "0" and page.locator("#today-list li[data-id]").count() == 0
    assert stored(camp) == {}
    rejected_id = page.get_attribute("#to-fix-list li[data-state=rejected]", "data-id")
    page.reload()  # a refused record stays on the phone too
    page.wait_for_selector("#to-fix-list li[data-state=rejected]")
    page.click(f"#to-fix-list li[data-id='{rejected_id}'] button")
    page.wait_for_selector("[data-field=visited_on].bad")
    assert "đến 14/08/2020" in page.inner_text("[data-field=visited_on] .err")
    assert page.evaluate("() => document.activeElement.id") == "visited_on"
    assert page.input_value("#head_name") == "Bùi Văn An"
    page.fill("#visited_on", "2020-08-14")
    save(page, "Bùi Văn An")
    page.wait_for_selector("#to-fix", state="hidden")
    shot(page, "2-fixed-and-sent")
    assert [r["visited_on"] for r in stored(camp).values()] == ["2020-08-14"]
    assert list(stored(camp)) == [rejected_id]


def test_today_list_opens_a_sent_household_to_correct(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url)
    fill(page, "Bùi Văn An")
    save(page, "Bùi Văn An")
    page.wait_for_selector("#today-list li[data-state=sent]")
    record_id = next(iter(stored(camp)))
    page.click(f"#today-list li[data-id='{record_id}'] button")
    page.wait_for_selector("#editing", state="visible")
    assert page.input_value("#head_name") == "Bùi Văn An"
    page.fill("#head_name", "Bùi Văn Ân")
    save(page, "Bùi Văn Ân")
    page.wait_for_function("() => document.getElementById('status').className.includes('ok')")
    wait_count(page, 0)
    shot(page, "corrected")
    records = stored(camp)
    assert list(records) == [record_id]
    assert records[record_id]["head_name"] == "Bùi Văn Ân"


def test_english_switch(live_server, phone):
    page = phone.new_page()
    login(page, live_server.url)
    page.goto(live_server.url + "/form?lang=en")
    page.wait_for_selector("#outbox:not([hidden])")
    assert "Waiting to send" in page.inner_text("#outbox h2")
    fill(page, "Bùi Văn An", members=2, smartphones=3, before=0, during=0)
    page.click("button[type=submit].primary")
    page.wait_for_selector("[data-field=smartphone_users].bad")
    assert "Cannot exceed household members" in page.inner_text("[data-field=smartphone_users]")


def test_a_new_version_replaces_the_old_cache(live_server, phone):
    page = phone.new_page()
    page.goto(live_server.url + "/login")
    # what an earlier deploy would have left on the phone
    page.evaluate("() => caches.open('bluezone-form-0ld0ld0ld0ld').then(c => c.put('/form', new Response('old')))")
    login(page, live_server.url)
    ready_for_offline(page)
    version = page.evaluate("() => document.querySelector('script[src*=\"form.js\"]').src.split('v=')[1]")
    page.wait_for_function("v => caches.keys().then(k => k.join() === 'bluezone-form-' + v)", arg=version)
    assert page.evaluate("() => caches.match('/form').then(r => r.text())").count("household-form") == 1


def test_a_shared_phone_sends_households_only_as_their_officer(live_server, phone, shot, camp):
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    phone.set_offline(True)
    fill(page, "Hà Văn Một")
    save(page, "Hà Văn Một")
    wait_count(page, 1)
    phone.clear_cookies()
    phone.set_offline(False)
    page.wait_for_selector("#relogin", state="visible")
    login(page, live_server.url, "officer2")  # another officer, another commune, same phone
    page.wait_for_selector("#outbox-list li[data-state=waiting]")
    page.click("#send-now")
    settled(page)
    page.wait_for_function("() => document.querySelector('#outbox-list li').textContent.includes('(officer)')")
    shot(page, "kept-for-its-officer")
    assert page.inner_text("#outbox-count") == "1"
    assert list(camp.households.records([4789, 4831])) == []


def test_closing_the_browser_keeps_the_outbox(live_server, chromium, tmp_path, shot, camp):
    """A real browser restart: the same profile on disk, a new browser process, no network."""
    from .conftest import ARGS, CAMPAIGN_DAY, CHROMIUM
    profile = tmp_path / "profile"
    options = dict(executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 360, "height": 740},
                   locale="vi-VN", is_mobile=True, has_touch=True)
    context = chromium.browser_type.launch_persistent_context(profile, **options)
    context.clock.install(time=CAMPAIGN_DAY)
    page = context.pages[0] if context.pages else context.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    context.set_offline(True)
    for name in ("Hà Văn Một", "Đinh Thị Hai"):
        fill(page, name)
        save(page, name)
    wait_count(page, 2)
    ids = outbox_ids(page)
    context.close()  # the browser process ends
    context = chromium.browser_type.launch_persistent_context(profile, **options)
    context.clock.install(time=CAMPAIGN_DAY)
    try:
        context.set_offline(True)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(live_server.url + "/form")
        wait_count(page, 2)
        shot(page, "1-reopened-offline")
        assert sorted(outbox_ids(page)) == sorted(ids)
        context.set_offline(False)
        page.click("#send-now")
        wait_count(page, 0)
        assert sorted(stored(camp)) == sorted(ids)
    finally:
        context.close()


def test_without_scripts_the_form_still_posts_to_the_server(live_server, chromium, camp):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, live_server.url)
        assert page.locator("#outbox").is_hidden()
        fill(page, "Bùi Văn An")
        page.click("button[type=submit].primary")
        page.wait_for_selector(".flash.ok")
        assert [r["head_name"] for r in stored(camp).values()] == ["Bùi Văn An"]
    finally:
        context.close()


def test_a_failing_server_and_a_lost_answer_still_store_the_household_once(live_server, chromium, shot, camp):
    """First a 503 (retried after a backoff), then an answer lost on the way back: stored once."""
    context = chromium.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN",
                                   service_workers="block")  # every request visible to the route below
    answers: list[int] = []

    def flaky(route):
        if route.request.method != "POST":
            return route.continue_()
        if not answers:
            answers.append(503)
            return route.fulfill(status=503, json={"error": "unavailable", "message": "storage unavailable"})
        if len(answers) == 1:
            answers.append(route.fetch().status)  # the server stores it...
            return route.abort("connectionreset")  # ...and the phone never hears back
        return route.continue_()

    try:
        page = context.new_page()
        login(page, live_server.url)
        settled(page)
        page.route("**/api/v1/households?*", flaky)
        fill(page, "Bùi Văn An")
        save(page, "Bùi Văn An")
        page.wait_for_function("() => /\\d:\\d\\d/.test(document.querySelector('#outbox-list li').textContent)")
        shot(page, "1-waiting-to-retry")
        wait_count(page, 0, timeout=60_000)
        shot(page, "2-sent")
        assert answers == [503, 201]
        assert [r["head_name"] for r in camp.households.records([COMMUNE])] == ["Bùi Văn An"]
    finally:
        context.close()
