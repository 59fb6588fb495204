"""The form on a link that connects but never answers, the saved household in view, no shift.

With the service worker installed, the form must be usable within a second of the tap whatever
the network does; a save's outcome must be where the officer looks and read out; nothing moves
the form once it is drawn.
"""

from __future__ import annotations

import socket
import threading
import time

from .test_offline_form import fill, login, ready_for_offline, save, settled


class StallingServer:
    """Accepts every connection on the service's port and never answers (one bar of signal)."""

    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_the_form_opens_within_a_second_on_a_link_that_never_answers(live_server, phone, shot):
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    live_server.stop()
    stall = StallingServer(live_server.port)
    try:
        started = time.monotonic()
        page.goto(live_server.url + "/form", wait_until="domcontentloaded", timeout=10_000)
        page.wait_for_selector("#queue.live", timeout=10_000)  # the form's script has run
        page.fill("#head_name", "Bùi Văn An")
        elapsed = time.monotonic() - started
        shot(page, "opened-on-a-stalled-link")
        assert elapsed <= 1.0, f"the form took {elapsed:.2f} s"
        assert stall.accepted >= 1  # the network was tried (the fresh copy in the background) and hung
        assert page.input_value("#head_name") == "Bùi Văn An"
    finally:
        stall.close()


def test_the_saved_household_is_confirmed_in_view_until_the_next_entry(live_server, phone, shot):
    page = phone.new_page()
    login(page, live_server.url)
    fill(page, "Bùi Văn An")
    page.check("input[value=no_smartphone]")
    save(page, "Bùi Văn An")
    page.wait_for_function("() => document.getElementById('status').className.includes('ok')")
    shot(page, "confirmed")
    box = page.evaluate("""() => { const r = document.getElementById('status').getBoundingClientRect();
                                   return {top: r.top, bottom: r.bottom, height: innerHeight}; }""")
    assert box["top"] >= 0 and box["bottom"] <= box["height"], box
    assert page.get_attribute("#status", "role") == "status"
    assert "Bùi Văn An" in page.inner_text("#status")
    page.fill("#head_name", "Đinh Thị Lan")  # the next household starts
    assert page.locator("#status").is_hidden()


def test_nothing_moves_the_form_once_drawn(live_server, phone):
    page = phone.new_page()
    page.add_init_script("""window.__shift = 0;
      new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__shift += e.value; })
        .observe({type: 'layout-shift', buffered: true});""")
    login(page, live_server.url)
    ready_for_offline(page)
    settled(page)
    page.reload()
    ready_for_offline(page)
    settled(page)
    assert page.evaluate("() => window.__shift") == 0


def test_the_page_offers_to_reload_when_a_newer_version_is_kept(live_server, phone):
    """The worker tells open pages each time it keeps a form; one of another version means a deploy."""
    page = phone.new_page()
    login(page, live_server.url)
    ready_for_offline(page)
    assert page.locator("#new-version").is_hidden()  # its own version: nothing to say
    page.evaluate("""() => navigator.serviceWorker.dispatchEvent(new MessageEvent('message',
                       {data: {type: 'form-cached', version: 'a-later-deploy'}}))""")
    page.wait_for_selector("#new-version", state="visible")
    assert page.get_attribute("#new-version", "role") == "status"
    assert "Tải lại" in page.inner_text("#new-version button")
