"""Unit codes in query strings, forms and the command line: ASCII digits only, or a clear 4xx."""

from __future__ import annotations

import pytest

from ..conftest import as_user, csrf

ODD_CODES = ["148\n", "148\r\nX-Evil: 1", "١٤٨", "１４８", "²", " 148"]


@pytest.mark.parametrize("value", ODD_CODES)
@pytest.mark.parametrize("url", ["/exports/households.csv", "/exports/households.xlsx", "/exports/aggregates.csv",
                                 "/exports/aggregates.json", "/exports/households.json"])
def test_odd_district_codes_are_a_400_not_a_header(api, url, value):
    """Non-ASCII digits and line breaks never reach Content-Disposition: 400 naming the filter."""
    response = api.get(url, query_string={"district": value})
    assert response.status_code == 400, response.status_code
    assert "district" in response.get_json()["message"]


def test_a_plain_district_code_names_the_file(api):
    response = api.get("/exports/households.csv?district=148")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ho-gia-dinh-district148-')


BAD_UNITS = ["²", "inf", "1e400", "4831.9", "-4831", "nan", "4831\n1"]


@pytest.mark.parametrize("unit", BAD_UNITS)
def test_account_form_refuses_odd_units_with_the_reason(app, camp, unit):
    """A unit that is not a code is refused, never truncated (4831.9 is not commune 4831)."""
    admin = as_user(app, "department")
    response = admin.post("/accounts", data={"username": "xa-moi", "full_name": "Cán bộ Mới", "role": "officer",
                                             "unit": unit, "csrf_token": csrf(admin, "/accounts")})
    assert response.status_code == 422
    assert "unit" in response.get_data(as_text=True).lower() or "mã" in response.get_data(as_text=True).lower()
    assert not camp.users.exists("xa-moi")


@pytest.mark.parametrize("unit", BAD_UNITS)
def test_cli_refuses_odd_units_with_the_reason(runner, camp, unit):
    result = runner.invoke(args=["users", "add", "xa-moi", "--role", "officer", "--unit", unit, "--password-stdin"],
                           input="a long password\n")
    assert result.exit_code != 0 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "unit" in result.output
    assert not camp.users.exists("xa-moi")


@pytest.mark.parametrize("district", ["²", "inf", "1e400", "148.9", "١٤٨"])
def test_agency_form_refuses_odd_districts_with_the_reason(app, camp, district):
    admin = as_user(app, "department")
    response = admin.post("/agencies", data={"code": "UBND-X", "name": "UBND thử", "group": "district",
                                             "district": district, "active": "1",
                                             "csrf_token": csrf(admin, "/agencies")})
    assert response.status_code == 422
    assert "UBND-X" not in camp.agencies.all()
