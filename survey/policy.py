"""Who may do what: the one place the views, the command line and the templates ask.

A role names what an account is for; an action names what a request wants to do. Views
ask ``may(user, action)`` (or use ``auth.requires(action)``), templates ``may(action)``,
and nothing else compares role names. Which communes a user reaches comes from the role
and its unit (``communes_for``); the filters of a request narrow that (``scope.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # only for annotations: the policy itself imports no service module
    from .gazetteer import Gazetteer
    from .reporting.agencies import AgencyRegistry

__all__ = [
    "ACTIONS",
    "ROLES",
    "agencies_for",
    "communes_for",
    "levels_for",
    "may",
    "may_manage",
    "roles_managed_by",
    "writable",
]

ROLES = ("officer", "district", "department", "agency")

_HOUSEHOLD_ROLES = frozenset({"officer", "district", "department"})
_STAFF = frozenset({"district", "department"})
_DEPARTMENT = frozenset({"department"})
_EVERYONE = frozenset(ROLES)
_WRITERS = frozenset({"officer", "department"})  # enter and correct households in the communes they reach

# Each action and the roles that may take it. A new page names an action here first.
ACTIONS: dict[str, frozenset[str]] = {
    "see_figures": _HOUSEHOLD_ROLES,          # aggregates on screen, in files and on the API
    "review": _HOUSEHOLD_ROLES,               # the review page's link in the menu
    "see_dashboard": _STAFF,
    "list_households": _STAFF,                # the office's household list with filters and search
    "import_households": _WRITERS,            # a CSV/XLSX of paper forms, and its import jobs
    "use_collect": _WRITERS,                  # an ODK Collect key, its QR code and the XLSForm
    "export_households": _STAFF,              # one row per household: CSV, XLSX, JSON
    "flag_households": _STAFF,                # send a record back with a reason
    "settle_duplicates": _STAFF,              # keep both, or remove the later copies
    "manage_accounts": _STAFF,
    "see_agency_reports": frozenset({"agency", "district", "department"}),
    "report_for_agency": frozenset({"agency", "district", "department"}),
    "change_password": _EVERYONE,             # one's own password
    "see_settings": _EVERYONE,                # the campaign window and targets, read by every form
    "edit_settings": _DEPARTMENT,
    "edit_agencies": _DEPARTMENT,
    "province_report": _DEPARTMENT,
    "choose_district": _DEPARTMENT,           # the dashboard's district picker
}

# Aggregate levels each role may look at, widest first; an agency sees none.
_LEVELS: dict[str, tuple[str, ...]] = {
    "officer": ("commune", "hamlet"),
    "district": ("district", "commune", "hamlet"),
    "department": ("province", "district", "commune", "hamlet"),
}


class Actor(Protocol):
    """What the policy needs to know of a user."""

    role: str
    unit: int | str


def may(user: Actor | None, action: str) -> bool:
    """Whether ``user`` may take ``action`` (an unknown action is a programming error)."""
    return user is not None and user.role in ACTIONS[action]


def levels_for(role: str) -> tuple[str, ...]:
    """Aggregate levels a role may look at, widest first."""
    return _LEVELS.get(role, ())


def communes_for(role: str, unit: int | str, gazetteer: Gazetteer) -> frozenset[int]:
    """Communes a role's unit reaches: its commune, its district's, the province's, or none."""
    if role == "officer":
        return frozenset([unit]) if unit in gazetteer.communes else frozenset()
    if role == "district":
        return frozenset(gazetteer.communes_of.get(unit, ()))  # type: ignore[call-overload]
    if role == "department":
        return frozenset(gazetteer.communes)
    return frozenset()


def writable(role: str, communes: frozenset[int]) -> frozenset[int]:
    """Communes a user may submit and correct households in."""
    return communes if role in _WRITERS else frozenset()


def may_manage(actor: Actor, role: str, unit: int | str | None, gazetteer: Gazetteer) -> bool:
    """The Department manages all accounts; a district manages officers of its communes."""
    if actor.role == "department":
        return True
    if actor.role == "district":
        return role == "officer" and unit in gazetteer.communes_of.get(actor.unit, ())  # type: ignore[call-overload]
    return False


def roles_managed_by(actor: Actor) -> tuple[str, ...]:
    """The roles an account manager may create."""
    if actor.role == "department":
        return ROLES
    return ("officer",) if actor.role == "district" else ()


def agencies_for(role: str, unit: int | str, registry: AgencyRegistry) -> list[str]:
    """Agencies a user may see: the Department all, a district its People's Committee, an agency itself."""
    if role == "department":
        return registry.codes()
    if role == "district":
        return registry.of_district(int(unit))
    if role == "agency":
        return [unit] if unit in registry.all() else []  # type: ignore[list-item]
    return []

