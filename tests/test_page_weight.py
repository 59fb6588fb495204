"""The form page with everything it loads stays under 64 KB uncompressed, all from this server."""

from __future__ import annotations

from html.parser import HTMLParser

# 64 KB: the phone checks every rule of the form itself (js/checks.js and the rules with their
# messages, about 10 KB); what travels is compressed, under 25 KB (tests/test_transfer.py).
BUDGET = 64 * 1024


class _Links(HTMLParser):
    """URLs of what a page loads: scripts, stylesheets, icons, the manifest, images."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        elif tag == "img" and attrs.get("src"):
            self.urls.append(attrs["src"])


def page_weight(client) -> dict[str, int]:
    """Bytes of the form page, each asset it names, the manifest's icons and the service worker."""
    page = client.get("/form")
    assert page.status_code == 200
    sizes = {"/form": len(page.data)}
    parser = _Links()
    parser.feed(page.get_data(as_text=True))
    urls = list(parser.urls) + ["/sw.js"]
    while urls:
        url = urls.pop(0)
        if url in sizes:
            continue
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not served from here"
        response = client.get(url)
        assert response.status_code == 200, url
        sizes[url] = len(response.data)
        if response.mimetype == "application/manifest+json":
            urls.extend(icon["src"] for icon in response.get_json()["icons"])
    return sizes


def test_form_page_and_all_its_assets_stay_under_64_kb(client, browser):
    browser.login("officer")
    sizes = page_weight(client)
    assert len(sizes) >= 9  # page, css, 3 scripts, manifest, 2 icons, service worker
    total = sum(sizes.values())
    print(f"\nform page weight: {total} bytes in {len(sizes)} files: {sizes}")
    assert total < BUDGET, f"{total} bytes > {BUDGET}: {sizes}"
