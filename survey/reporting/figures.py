"""The figures reports are built from: agency rows in a user's scope, judged against the settings.

The API, the dashboard, the exports and the province report all call these, so they
cannot disagree.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..forms import new_id
from ..i18n import translate
from ..policy import agencies_for
from ..problems import NotYourAgency
from ..users import User
from .agency_reports import STATUSES, agency_rows, agency_totals
from .aggregate import aggregate_rows

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["agency_table", "agency_codes", "NotYourAgency", "submit_agency_report", "target_count",
           "province_report_data"]


def agency_codes(camp: Campaign, user: User) -> list[str]:
    """Agency codes ``user`` may see, in registry order."""
    return agencies_for(user.role, user.unit, camp.agencies)


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


def target_count(smartphone_users: int, target_pct: int) -> int:
    """Installations needed for ``target_pct`` of the smartphone users (rounded up)."""
    return math.ceil(smartphone_users * target_pct / 100)


def province_report_data(camp: Campaign) -> dict:
    """Everything the province report holds, from the same functions as the API."""
    communes = list(camp.gazetteer.communes)
    settings = camp.settings.get()
    province = aggregate_rows(camp, "province", communes)[0]
    agencies, agency_totals = agency_table(camp, camp.agencies.codes())
    return {"province": province, "districts": aggregate_rows(camp, "district", communes),
            "communes": aggregate_rows(camp, "commune", communes), "agencies": agencies,
            "agency_totals": agency_totals, "settings": settings, "generated_at": camp.now(),
            "target": target_count(province["smartphone_users"], settings.target_pct),
            "district_names": {code: d.name for code, d in camp.gazetteer.districts.items()},
            "groups": {k: v["vi"] for k, v in camp.agencies.groups.items()},
            "status_labels": {key: translate("status_" + key, "vi") for key in STATUSES}}
