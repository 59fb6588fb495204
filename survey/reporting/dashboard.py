"""What the dashboard shows, as plain data: totals against the target, coverage per unit,
installations by day, silent communes and agency timeliness, for one user's scope.

Figures come from ``aggregate_rows`` and ``agency_table``, the functions behind the API,
so the page and the API cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..settings import CampaignSettings
from ..storage import KeptSummary
from ..users import User
from .aggregate import aggregate_rows
from .figures import agency_codes, agency_table, target_count

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["Dashboard", "build_dashboard", "activity", "activity_summary", "cumulative", "ACTIVITY"]

ACTIVITY = "activity"  # the name of the kept summary


@dataclass
class Dashboard:
    """Everything on the page for one scope."""

    settings: CampaignSettings
    as_of: dt.date
    level: str                      # what the bars are: "district" or "commune"
    total: dict                     # the scope's aggregate row
    target: int                     # installations needed to reach the target
    bars: list[dict]
    empty_communes: list[dict]
    stale_communes: list[dict]
    by_day: list[tuple[dt.date, int]]
    agencies: list[dict] = field(default_factory=list)
    agency_totals: dict = field(default_factory=dict)


_ATTENTION = ("overdue", "late", "pending", "on_time")


def _day(stamp: str, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromisoformat(stamp).astimezone(tz).date()


def activity(records: list[dict], installed_fields: list[str], tz: dt.tzinfo) -> dict:
    """One commune's installations by visit day and the day of its last submission."""
    return _finish_activity(activity_tally(records, installed_fields, tz))


def activity_tally(records: list[dict], installed_fields: list[str], tz: dt.tzinfo) -> dict:
    """The activity of ``records`` as JSON (days as ISO strings), so the store can keep it in a file."""
    by_day: dict[str, int] = {}
    last = ""
    for rec in records:
        day = rec.get("visited_on") or _day(rec["created_at"], tz).isoformat()
        by_day[day] = by_day.get(day, 0) + sum(rec[f] for f in installed_fields)
        last = max(last, _day(rec["created_at"], tz).isoformat())
    return {"by_day": by_day, "last": last}


def _merge_activity(first: dict, then: dict) -> dict:
    by_day = dict(first["by_day"])
    for day, n in then["by_day"].items():
        by_day[day] = by_day.get(day, 0) + n
    return {"by_day": by_day, "last": max(first["last"], then["last"])}


def _finish_activity(tally: dict) -> dict:
    last = tally["last"]
    return {"by_day": tally["by_day"], "last_submitted": dt.date.fromisoformat(last) if last else None}


def activity_summary(installed_fields: list[str], tz: dt.tzinfo) -> KeptSummary:
    """Activity kept beside each commune's file (like hamlet totals), so a worker's first
    dashboard does not decode every commune: a new worker read the province for ~2 s."""
    fields = list(installed_fields)
    return KeptSummary(tally=lambda records: activity_tally(records, fields, tz), merge=_merge_activity,
                       finish=_finish_activity, version=f"1:{','.join(fields)}:{tz}")


def cumulative(by_day: dict[str, int], start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """Running totals for every day from ``start`` to ``end``; earlier visits count on the first day."""
    end = max([end, start, *(dt.date.fromisoformat(d) for d in by_day)])
    series, running = [], 0
    days = sorted(by_day)
    i = 0
    for n in range((end - start).days + 1):
        day = start + dt.timedelta(days=n)
        while i < len(days) and dt.date.fromisoformat(days[i]) <= day:
            running += by_day[days[i]]
            i += 1
        series.append((day, running))
    return series


def _activities(camp: Campaign, communes: list[int]) -> dict[int, dict]:
    fields = camp.form.aggregate["installed"]

    def compute(records: list[dict]) -> dict:
        return activity(records, fields, camp.tz)
    return camp.households.derived_many(communes, ACTIVITY, compute)


def _bars(rows: list[dict], target_pct: int) -> list[dict]:
    return [{"code": r["code"], "name": r["name"], "coverage_pct": r["coverage_pct"],
             "installed_total": r["installed_total"], "smartphone_users": r["smartphone_users"],
             "below": r["coverage_pct"] is None or r["coverage_pct"] < target_pct} for r in rows]


def build_dashboard(camp: Campaign, user: User, communes: list[int], level: str,
                    district: int | None = None) -> Dashboard:
    """The dashboard over ``communes`` (already scoped), bars at ``level``; agencies of
    ``district`` only when one is chosen."""
    settings = camp.settings.get()
    as_of = min(camp.today(), settings.end)  # after the visits, judge as of their last day
    total = aggregate_rows(camp, "province", communes)[0]
    per_commune = aggregate_rows(camp, "commune", communes)
    rows = per_commune if level == "commune" else aggregate_rows(camp, level, communes)
    acts = _activities(camp, communes)
    merged: dict[str, int] = {}
    for act in acts.values():
        for day, n in act["by_day"].items():
            merged[day] = merged.get(day, 0) + n
    stale = [{**r, "last_submitted": acts[r["code"]]["last_submitted"],
              "days": (as_of - acts[r["code"]]["last_submitted"]).days}
             for r in per_commune if r["households"]
             and (as_of - acts[r["code"]]["last_submitted"]).days >= settings.stale_days]
    codes = agency_codes(camp, user)
    if district is not None:
        codes = [c for c in codes if c in camp.agencies.of_district(district)]
    agencies, agency_totals = agency_table(camp, codes)
    agencies.sort(key=lambda r: _ATTENTION.index(r["status"]))  # who needs a call comes first
    return Dashboard(settings, as_of, level, total,
                     target_count(total["smartphone_users"], settings.target_pct),
                     _bars(rows, settings.target_pct),
                     [r for r in per_commune if not r["households"]],
                     sorted(stale, key=lambda r: (-r["days"], r["code"])),
                     cumulative(merged, settings.start, as_of), agencies, agency_totals)
