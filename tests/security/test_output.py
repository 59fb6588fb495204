"""Stored text is shown as text: HTML escaped on every page, formulas neutralised in downloads."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.conftest import household

XSS = '<script>alert("x")</script>"><img src=x onerror=alert(1)>{{7*7}}'
ESCAPED = "&lt;script&gt;alert("
TEXT_FIELDS = ("hamlet", "head_name", "address", "note")
FORMULAS = {"hamlet": '=HYPERLINK("http://evil.example","x")', "head_name": "+1+cmd|' /C calc'!A0",
            "address": "-2+3", "note": "@SUM(A1:A9)"}


def _hostile(camp_api, values: dict) -> dict:
    record = household(**values)
    assert camp_api.post("/api/v1/households", record, user="department").status_code == 201
    return record


def _assert_escaped(html: str, where: str) -> None:
    assert "<script>alert" not in html and "<img src=x" not in html, where
    assert ESCAPED in html, f"the hostile text is not on {where} at all"


@pytest.mark.parametrize(("role", "pages"), [("officer", ["/form", "/aggregates?level=hamlet"]),
                                             ("district", ["/aggregates?level=hamlet"]),
                                             ("department", ["/aggregates?level=hamlet&district=148"])])
def test_markup_in_a_stored_hamlet_is_escaped_on_every_page_listing_hamlets(api, browser, role, pages):
    """Hamlet names are shown back (form suggestions, figures): as text, for every role."""
    _hostile(api, {"hamlet": XSS, "head_name": XSS})
    browser.login(role)
    for url in pages:
        response = browser.client.get(url)
        assert response.status_code == 200
        _assert_escaped(response.get_data(as_text=True), url)


def test_api_serves_stored_markup_as_json_data_only(api):
    """The API gives the text back as it was stored, typed JSON with nosniff: never as a page."""
    record = _hostile(api, {name: XSS for name in TEXT_FIELDS if name != "head_name"})
    response = api.get(f"/api/v1/households/{record['id']}", user="officer")
    assert response.get_json()["note"] == XSS
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_markup_submitted_on_the_form_is_escaped_in_the_confirmation(browser):
    """The 'saved' message repeats the name and hamlet: escaped."""
    browser.login("officer")
    data = {k: str(v) for k, v in household(head_name=XSS[:100], hamlet=XSS).items()
            if k != "reasons_not_installed"}
    response = browser.client.post("/form", data={**data, "csrf_token": browser.csrf("/form")})
    assert response.status_code == 302
    _assert_escaped(browser.client.get("/form").get_data(as_text=True), "the confirmation")


def test_markup_echoed_back_in_a_refused_form_is_escaped(browser):
    """A refused form shows what was typed, every text field of it, as text."""
    browser.login("officer")
    data = {k: str(v) for k, v in household(members="x").items() if k != "reasons_not_installed"}
    data.update({name: XSS for name in TEXT_FIELDS})
    response = browser.client.post("/form", data={**data, "csrf_token": browser.csrf("/form")})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    _assert_escaped(html, "the refused form")
    assert html.count(ESCAPED) >= len(TEXT_FIELDS)


@pytest.mark.parametrize("url", ["/aggregates?commune=<script>alert(1)</script>",
                                 "/aggregates?level=<script>alert(1)</script>",
                                 "/login?next=javascript:alert(1)"])
def test_markup_in_the_url_is_escaped_on_error_pages(browser, url):
    """Error messages that quote the request quote it as text."""
    browser.login("department")
    html = browser.client.get(url).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "javascript:alert" not in html


def _csv_row(text: str, marker: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return next(r for r in rows if any(marker in c for c in r))


def test_formulas_are_neutralised_in_the_household_csv(api):
    """Cells starting with = + - @ get a leading apostrophe: shown, never run."""
    _hostile(api, FORMULAS)
    row = _csv_row(api.get("/exports/households.csv").get_data(as_text=True), "HYPERLINK")
    for value in FORMULAS.values():
        assert "'" + value in row and value not in row


def test_formulas_are_text_in_the_household_xlsx(api):
    """In the workbook the same cells are text cells holding exactly what was entered, marked
    quotePrefix (so editing them keeps them text): never a formula, no stray apostrophe."""
    _hostile(api, FORMULAS)
    sheet = load_workbook(io.BytesIO(api.get("/exports/households.xlsx").data)).active
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in cells)
    by_value = {c.value: c for c in cells}
    for value in FORMULAS.values():
        assert value in by_value and by_value[value].quotePrefix
        assert "'" + value not in by_value
    plain = [c for c in cells if c.value[:1] not in "=+-@"]
    assert plain and not any(c.quotePrefix for c in plain)  # ordinary text is left as it is


SPLITTERS = {"head_name": "Nguyễn;=1+1", "hamlet": "Xóm Bãi,+SUM(A1)", "address": "Số 7;  -2+3",
             "note": "ghi chú\t@cmd\n=HYPERLINK(\"http://evil.example\")"}


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_no_separator_opens_a_formula_cell_in_the_household_csv(api, separator):
    """Excel in Vietnamese splits on ";" and ignores quotes in mid-field: read the file that way
    (and with "," and tab), and no cell may begin with = + - @."""
    _hostile(api, SPLITTERS)
    text = api.get("/exports/households.csv").get_data(as_text=True).lstrip("\ufeff")
    for row in csv.reader(io.StringIO(text), delimiter=separator):
        for cell in row:
            assert cell.lstrip(" ")[:1] not in "=+-@" or not cell.strip(), (separator, cell)
    rows = list(csv.reader(io.StringIO(text)))
    assert "Nguyễn;'=1+1" in rows[1]  # shown as typed, with the apostrophe Excel hides


def test_every_text_field_of_the_csv_is_quoted(api):
    _hostile(api, SPLITTERS)
    line = api.get("/exports/households.csv").get_data(as_text=True).splitlines()[1]
    assert '"Nguyễn;\'=1+1"' in line and ',4,' in line  # text quoted, numbers bare


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_hamlet_names_are_neutralised_in_aggregates(api, fmt):
    """Hamlet names reach the aggregate downloads too."""
    _hostile(api, FORMULAS)
    data = api.get(f"/exports/aggregates.{fmt}?level=hamlet&commune=4789")
    if fmt == "csv":
        cells = _csv_row(data.get_data(as_text=True), "HYPERLINK")
    else:
        book = load_workbook(io.BytesIO(data.data))
        cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
                 if c.data_type == "s" and c.quotePrefix]
        assert FORMULAS["hamlet"] in cells and "'" + FORMULAS["hamlet"] not in cells
        return
    assert "'" + FORMULAS["hamlet"] in cells and FORMULAS["hamlet"] not in cells


@pytest.mark.parametrize("url", ["/households/{id}", "/households/{id}/edit"])
def test_markup_in_every_field_is_escaped_on_record_pages(api, browser, url):
    """Pages that show one household show every text field of it as text."""
    record = _hostile(api, {name: XSS for name in TEXT_FIELDS})
    browser.login("officer")
    response = browser.client.get(url.format(id=record["id"]), headers={"Accept": "text/html"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    _assert_escaped(html, url)
    assert html.count(ESCAPED) >= 2
