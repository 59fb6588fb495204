"""One rule for every human text: control, bidi and zero-width characters are refused, naming
the code point; text is stored as NFC. Household text had it; so must every other field."""

from __future__ import annotations

import unicodedata

import pytest

from ..conftest import as_user, csrf, household

HIDDEN = [("\u202e", "U+202E"), ("\u200b", "U+200B"), ("\u2066", "U+2066"), ("\x07", "U+0007"),
          ("\ufeff", "U+FEFF")]


@pytest.mark.parametrize(("char", "code"), HIDDEN)
def test_account_names_refuse_hidden_characters(app, camp, char, code):
    admin = as_user(app, "department")
    response = admin.post("/accounts", data={"username": "xa-moi", "full_name": f"Bùi{char} Văn An",
                                             "role": "officer", "unit": "4831",
                                             "csrf_token": csrf(admin, "/accounts")})
    assert response.status_code == 422
    assert code in response.get_data(as_text=True)
    assert not camp.users.exists("xa-moi")


@pytest.mark.parametrize(("char", "code"), HIDDEN[:2])
def test_account_names_refuse_hidden_characters_on_the_command_line(runner, camp, char, code):
    result = runner.invoke(args=["users", "add", "xa-moi", "--role", "officer", "--unit", "4831",
                                 "--full-name", f"Bùi{char} Văn An", "--password-stdin"], input="a long password\n")
    assert result.exit_code != 0 and code in result.output
    assert not camp.users.exists("xa-moi")


def test_account_names_are_stored_as_nfc(app, camp):
    admin = as_user(app, "department")
    nfd = unicodedata.normalize("NFD", "Bùi  Thị Hoà")
    admin.post("/accounts", data={"username": "xa-moi", "full_name": nfd, "role": "officer", "unit": "4831",
                                  "csrf_token": csrf(admin, "/accounts")})
    assert camp.users.users.get("xa-moi")["full_name"] == "Bùi Thị Hoà"


@pytest.mark.parametrize(("char", "code"), HIDDEN)
def test_review_reasons_refuse_hidden_characters(app, api, camp, char, code):
    record = household()
    api.post("/api/v1/households", record)
    reviewer = as_user(app, "district")
    response = reviewer.post(f"/households/{record['id']}/flag", follow_redirects=True,
                             data={"reason": f"Sai số{char} nhân khẩu",
                                   "csrf_token": csrf(reviewer, f"/households/{record['id']}")})
    assert code in response.get_data(as_text=True)
    assert camp.flags.get(record["id"], 4789) is None


@pytest.mark.parametrize(("char", "code"), HIDDEN)
def test_agency_names_refuse_hidden_characters(app, camp, char, code):
    admin = as_user(app, "department")
    response = admin.post("/agencies", data={"code": "SO-MOI", "name": f"Sở{char} Mới", "group": "department",
                                             "district": "", "active": "1", "csrf_token": csrf(admin, "/agencies")})
    assert response.status_code == 422
    assert code in response.get_data(as_text=True)
    assert "SO-MOI" not in camp.agencies.all()
