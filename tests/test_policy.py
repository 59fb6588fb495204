"""The policy: one table of who may do what, asked by name from views and templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from survey import policy
from survey.users import User

SURVEY = Path(__file__).resolve().parents[1] / "survey"
ASKED = re.compile(r"""(?:may|requires)\(\s*(?:g\.user,\s*|user,\s*)?["']([a-z_]+)["']""")


def _asked() -> set[str]:
    """Every action a view, service or template names."""
    names: set[str] = set()
    for path in [*SURVEY.rglob("*.py"), *SURVEY.rglob("*.html")]:
        if path.name != "policy.py":
            names |= set(ASKED.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_action_asked_for_is_in_the_table_and_every_one_is_used():
    """A misspelt action would be a KeyError at request time; an unused one is dead policy."""
    asked = _asked()
    assert asked - set(policy.ACTIONS) == set()
    assert set(policy.ACTIONS) - asked == set()


def _user(role: str, unit: int | str = 0) -> User:
    return User("u", role, unit, frozenset({4789}))


@pytest.mark.parametrize(("role", "levels"), [
    ("officer", ("commune", "hamlet")), ("district", ("district", "commune", "hamlet")),
    ("department", ("province", "district", "commune", "hamlet")), ("agency", ())])
def test_levels_by_role(role, levels):
    assert policy.levels_for(role) == levels


def test_only_officers_and_the_department_write_households():
    assert [r for r in policy.ROLES if _user(r).writable] == ["officer", "department"]


def test_no_user_may_do_anything():
    assert not any(policy.may(None, action) for action in policy.ACTIONS)


def test_an_unknown_action_is_an_error_not_a_refusal():
    with pytest.raises(KeyError):
        policy.may(_user("department"), "see_everything")


def test_who_manages_whom(camp):
    gazetteer = camp.gazetteer
    district = _user("district", 148)
    assert policy.may_manage(district, "officer", 4789, gazetteer)
    assert not policy.may_manage(district, "officer", 4831, gazetteer)
    assert not policy.may_manage(district, "district", 148, gazetteer)
    assert policy.may_manage(_user("department", 17), "agency", "SYT", gazetteer)
    assert not policy.may_manage(_user("officer", 4789), "officer", 4789, gazetteer)
    assert policy.roles_managed_by(district) == ("officer",)
    assert policy.roles_managed_by(_user("agency", "SYT")) == ()
