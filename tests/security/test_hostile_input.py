"""A catalogue of hostile and broken input: each case a clear 4xx naming the field, nothing stored."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest

from tests.conftest import household

URL = "/api/v1/households"
TOMORROW = (dt.date.today() + dt.timedelta(days=2)).isoformat()

# (case id, field, value): a valid household with one field replaced, answered 422 naming it.
FIELD_CASES = [
    ("count as string", "members", "4"),
    ("count as boolean", "members", True),
    ("count as list", "members", [4]),
    ("count as object", "members", {"n": 4}),
    ("count null", "members", None),
    ("count negative", "members", -1),
    ("smartphones negative", "smartphone_users", -5),
    ("count above the form's max", "members", 51),
    ("count huge", "members", 10**30),
    ("count float", "members", 4.0),
    ("count fraction", "installed_before", 0.5),
    ("count exponent", "members", 1e1),
    ("text as number", "head_name", 123),
    ("text as list", "hamlet", ["Xóm Mới"]),
    ("text empty", "head_name", ""),
    ("text only spaces", "hamlet", "   "),
    ("text over max length", "head_name", "Nguyễn " * 20),
    ("text of 900 kB", "note", "a" * 900_000),
    ("zero-width space", "head_name", "Bùi\u200bVăn An"),
    ("zero-width joiner", "hamlet", "Xóm\u200dMới"),
    ("byte-order mark inside", "address", "Số 7\ufeff"),
    ("bidi override", "head_name", "Bùi \u202eVăn An"),
    ("bidi isolate", "note", "\u2066ghi chú\u2069"),
    ("control character", "address", "Số 7\x00"),
    ("escape sequence", "note", "\x1b[31mđỏ"),
    ("unknown commune code", "commune_code", 99999),
    ("commune of another province", "commune_code", 1),  # Phường Phúc Xá, Hà Nội
    ("district code as commune", "commune_code", 148),
    ("commune code as string", "commune_code", "4789"),
    ("negative commune code", "commune_code", -4789),
    ("date in the future", "visited_on", TOMORROW),
    ("date that does not exist", "visited_on", "2020-02-30"),
    ("date in local format", "visited_on", "15/08/2020"),
    ("date as number", "visited_on", 20200815),
    ("date with time", "visited_on", "2020-08-15T10:00:00"),
    ("id not a uuid", "id", "1; DROP TABLE households"),
    ("id as number", "id", 5),
    ("choice not on the list", "reasons_not_installed", ["bribed"]),
    ("choices as string", "reasons_not_installed", "declined"),
    ("choices with a number", "reasons_not_installed", [1]),
    ("server field officer", "officer", "department"),
    ("server field created_at", "created_at", "2020-01-01T00:00:00+07:00"),
    ("server field district_code", "district_code", 150),
    ("unknown field", "is_admin", True),
    ("prototype pollution key", "__proto__", {"admin": True}),
    ("more smartphone users than members", "smartphone_users", 5),
]



def _raw_record(field: str, literal: str) -> bytes:
    """A valid household as JSON text with one field's value written as ``literal``."""
    text = json.dumps(household(**{field: 0}), ensure_ascii=False)
    return text.replace(f'"{field}": 0', f'"{field}": {literal}').encode()


# (case id, raw body, content type, status, words the message must contain)
RAW_CASES = [
    ("number overflowing a float", _raw_record("members", "1e400"), "application/json", 422, "members"),
    ("integer of 5000 digits", _raw_record("members", "9" * 5000), "application/json", 400, "too many digits"),
    ("NaN", b'{"members": NaN}', "application/json", 400, "NaN is not a number"),
    ("Infinity", b'{"members": Infinity}', "application/json", 400, "Infinity is not a number"),
    ("-Infinity", b'{"members": -Infinity}', "application/json", 400, "-Infinity is not a number"),
    ("duplicate keys", b'{"members": 4, "members": 40}', "application/json", 400, "duplicate key 'members'"),
    ("invalid UTF-8", b'{"head_name": "B\xf9i"}', "application/json", 400, "not valid UTF-8"),
    ("overlong UTF-8", b'{"head_name": "\xc0\xafetc"}', "application/json", 400, "not valid UTF-8"),
    ("lone surrogate escape", b'{"head_name": "\\ud800"}', "application/json", 422, "head_name"),
    ("truncated JSON", b'{"members": 4', "application/json", 400, "invalid JSON"),
    ("trailing garbage", b'{"members": 4} {}', "application/json", 400, "invalid JSON"),
    ("empty body", b"", "application/json", 400, "invalid JSON"),
    ("array body", b"[]", "application/json", 400, "must be a JSON object"),
    ("string body", b'"household"', "application/json", 400, "must be a JSON object"),
    ("null body", b"null", "application/json", 400, "must be a JSON object"),
    ("form-encoded body", b"members=4", "application/x-www-form-urlencoded", 400, "application/json"),
    ("text body", b'{"members": 4}', "text/plain", 400, "application/json"),
]


@pytest.fixture
def nothing_stored(camp):
    """Checks after the test that no household was written anywhere in the province."""
    yield
    assert camp.households.count(camp.gazetteer.communes) == 0
    assert camp.households.is_empty()


@pytest.mark.parametrize(("field", "value"), [pytest.param(f, v, id=i) for i, f, v in FIELD_CASES])
def test_bad_field_is_422_naming_it(api, nothing_stored, field, value):
    """The answer names the field in ``fields`` with a message a person can act on."""
    response = api.post(URL, household(**{field: value}), user="department")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "validation_failed" and field in body["fields"]
    assert all(isinstance(m, str) and m for m in _messages(body["fields"][field]))


def _messages(value) -> list:
    if isinstance(value, dict):
        return [m for v in value.values() for m in _messages(v)]
    return list(value) if isinstance(value, list) else [value]


@pytest.mark.parametrize(("raw", "ctype", "status", "words"),
                         [pytest.param(r, c, s, w, id=i) for i, r, c, s, w in RAW_CASES])
def test_broken_body_is_a_clear_4xx(api, nothing_stored, raw, ctype, status, words):
    """Bodies that are not one clean JSON object are refused before validation, saying why."""
    response = api.client.post(URL, data=raw, content_type=ctype, headers=api.headers("officer"))
    assert response.status_code == status
    assert words in json.dumps(response.get_json(), ensure_ascii=False)


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 5 * 1024 * 1024])
def test_body_over_the_limit_is_413(api, nothing_stored, size):
    """Judged on Content-Length: the body is not even read."""
    record = household(note="a" * size)
    response = api.post(URL, record)
    assert response.status_code == 413
    assert response.get_json()["error"] == "body_too_large" and "1 MB" in response.get_json()["message"]


def test_nfd_text_is_stored_as_nfc(api, camp):
    """NFD is how some phone keyboards type Vietnamese: accepted, and stored composed."""
    name = unicodedata.normalize("NFD", "Nguyễn Thị Hoà")
    response = api.post(URL, household(head_name=name, hamlet=unicodedata.normalize("NFD", "Bản Lác")))
    assert response.status_code == 201
    stored = response.get_json()
    assert stored["head_name"] == unicodedata.normalize("NFC", name) != name
    assert unicodedata.is_normalized("NFC", stored["hamlet"])


def test_bad_put_changes_nothing(api, camp):
    """A correction with a bad field is refused and the stored record stays as it was."""
    record = household()
    assert api.post(URL, record).status_code == 201
    response = api.put(f"{URL}/{record['id']}", {**record, "members": -3, "head_name": "\u202eX"})
    assert response.status_code == 422 and {"members", "head_name"} <= set(response.get_json()["fields"])
    assert api.get(f"{URL}/{record['id']}", user="officer").get_json()["members"] == record["members"]


def test_put_with_another_id_in_the_body_is_refused(api):
    """The URL names the record; a body claiming another id does not overwrite that one."""
    first, second = household(), household()
    for rec in (first, second):
        assert api.post(URL, rec).status_code == 201
    response = api.put(f"{URL}/{first['id']}", {**second, "members": 9})
    assert response.status_code == 422 and "id" in response.get_json()["fields"]
    assert api.get(f"{URL}/{second['id']}", user="officer").get_json()["members"] == second["members"]


@pytest.mark.parametrize(("field", "value"), [("members", "4.5"), ("members", "-1"), ("members", "١٢"),
                                              ("members", "9" * 5000),
                                              ("head_name", "Bùi\u200bAn"), ("commune_code", "1"),
                                              ("visited_on", TOMORROW)])
def test_html_form_refuses_bad_values_next_to_the_field(browser, nothing_stored, field, value):
    """The form page answers 422 and shows the message on the field itself."""
    browser.login("officer")
    data = {k: str(v) for k, v in household().items() if k != "reasons_not_installed"}
    data.update({field: value, "csrf_token": browser.csrf("/form")})
    response = browser.client.post("/form", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'data-field="{field}"' in page and 'class="err"' in page
