"""The figures reports are built from: agency rows in a user's scope, judged against the settings.

The API, the dashboard, the exports and the province report all call these, so they
cannot disagree.
"""

from __future__ import annotations

from .agencies import agencies_in_scope
from .agency_reports import agency_rows, agency_totals
from .campaign import Campaign
from .forms import new_id
from .users import User

__all__ = ["agency_table", "agency_codes", "NotYourAgency", "submit_agency_report"]


class NotYourAgency(Exception):
    """The user may not report for this agency."""


def agency_codes(camp: Campaign, user: User) -> list[str]:
    """Agency codes ``user`` may see, in registry order."""
    return agencies_in_scope(user.role, user.unit, camp.agencies)


def agency_table(camp: Campaign, codes: list[str]) -> tuple[list[dict], dict]:
    """(rows, totals) for ``codes``: latest figures and on-time status against the agency deadline."""
    settings = camp.settings.get()
    rows = agency_rows(camp.agencies.all(), camp.agency_reports.by_agency(codes), codes,
                       settings.agency_deadline, camp.now())
    return rows, agency_totals(rows)


def submit_agency_report(camp: Campaign, user: User, record: dict) -> tuple[dict, bool]:
    """Store a validated report as the agency's next version; (stored, created).

    An agency reports for itself, a district for its People's Committee, the Department for
    any agency (reports that reach it by phone or on paper).
    """
    if record["agency_code"] not in agency_codes(camp, user):
        raise NotYourAgency(record["agency_code"])
    record.setdefault("id", new_id())
    return camp.agency_reports.add(record, user.username, camp.stamp)
