"""Light on a weak link: compressed answers, immutable versioned assets, a dashboard whose
size follows the days of the campaign, not its records."""

from __future__ import annotations

import datetime as dt
import gzip
import random
import re

import brotli
import pytest

from survey.assets import asset_url
from survey.delivery import IMMUTABLE
from survey.demo import households_for
from survey.reporting.charts import MAX_POINTS, thin

DASHBOARD_BUDGET = 60 * 1024
FORM_BUDGET = 25 * 1024


def seed(camp, total: int, seed: int = 11, spread_years: bool = False) -> None:
    """About ``total`` demo households; with ``spread_years`` some visit dates run years ahead."""
    rng = random.Random(seed)
    for commune, records in households_for(camp.gazetteer, total, seed=seed):
        if spread_years:
            for r in records:
                if rng.random() < 0.2:
                    day = dt.date(2020, 8, 10) + dt.timedelta(days=rng.randrange(6 * 365))
                    r["visited_on"] = day.isoformat()
        camp.households.bulk_insert(commune, records)


def transferred(client, url: str, encoding: str = "br") -> tuple[int, int]:
    """(compressed bytes on the wire, bytes once decoded) of one page."""
    response = client.get(url, headers={"Accept-Encoding": encoding})
    assert response.status_code == 200, url
    assert response.headers.get("Content-Encoding") == encoding, url
    assert "Accept-Encoding" in response.headers.get("Vary", "")
    decoded = brotli.decompress(response.data) if encoding == "br" else gzip.decompress(response.data)
    return len(response.data), len(decoded)


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_and_api_are_compressed_as_the_client_asks(client, browser, api, encoding):
    browser.login("department")
    static = [asset_url_in(client, "app.css")] if encoding == "br" else []  # files stream: no gzip
    for url in ("/aggregates?level=commune", "/dashboard", "/households", *static):
        wire, plain = transferred(client, url, encoding)
        assert wire < plain / 2, (url, wire, plain)
    response = api.get("/api/v1/aggregates?level=commune", headers={"Accept-Encoding": encoding})
    assert response.headers["Content-Encoding"] == encoding
    plain = client.get("/dashboard", headers={"Accept-Encoding": "identity"})
    assert plain.headers.get("Content-Encoding") is None


def asset_url_in(client, name: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    return re.search(rf'href="(/static/{re.escape(name)}\?v=[0-9a-f]+)"', page).group(1)


def test_versioned_static_files_are_immutable_for_a_year(client, app):
    client.get("/login")  # the session now holds a CSRF token
    with app.test_request_context():
        urls = [asset_url(n) for n in ("app.css", "js/form.js", "icons/icon-192.png")]
    for url in urls:
        assert client.get(url).headers["Cache-Control"] == IMMUTABLE, url
        assert "Set-Cookie" not in client.get(url).headers  # a shared cache must not keep a session
    assert client.get("/static/app.css").headers["Cache-Control"] != IMMUTABLE
    assert client.get("/static/app.css?v=000000000000").headers["Cache-Control"] != IMMUTABLE


def test_every_page_names_a_favicon_and_favicon_ico_answers(client, browser):
    browser.login("department")
    page = client.get("/dashboard").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" type="image/png" href="([^"]+)"', page).group(1)
    assert client.get(icon).status_code == 200
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_the_line_chart_keeps_at_most_one_point_a_day_and_a_bounded_count():
    days = [(dt.date(2020, 8, 10) + dt.timedelta(days=i), i * 3) for i in range(2298)]
    kept = thin(days)
    assert len(kept) == MAX_POINTS and kept[0] == days[0] and kept[-1] == days[-1]
    assert len({d for d, _ in kept}) == MAX_POINTS
    assert thin(days[:16]) == days[:16]


def test_dashboard_size_does_not_grow_with_records(app, camp, browser, client, monkeypatch):
    from zoneinfo import ZoneInfo
    late_august = dt.datetime(2020, 8, 24, 10, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    monkeypatch.setattr(camp, "now", lambda: late_august)
    browser.login("department")
    seed(camp, 1000, seed=3, spread_years=True)
    small = transferred(client, "/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert len(re.findall(r"<circle class=\"day\"", page)) <= MAX_POINTS
    seed(camp, 4000, seed=4, spread_years=True)
    large = transferred(client, "/dashboard")
    print(f"\ndashboard (br, plain): 1,000 households {small}, 5,000 households {large}")
    assert large[0] < small[0] * 1.1 + 512, (small, large)
    assert large[0] < DASHBOARD_BUDGET


def test_form_page_with_its_scripts_and_styles_is_under_25_kb_compressed(client, browser):
    browser.login("officer")
    page = client.get("/form").get_data(as_text=True)
    urls = ["/form", *re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css)\?v=[0-9a-f]+)"', page)]
    assert len(urls) >= 4  # the page, its stylesheet and three scripts
    sizes = {url: transferred(client, url)[0] for url in urls}
    print(f"\nform page and assets, brotli: {sum(sizes.values())} bytes {sizes}")
    assert sum(sizes.values()) < FORM_BUDGET
