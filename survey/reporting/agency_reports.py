"""Agency staff reports: every version kept, the latest one counted, timeliness judged.

A report is stored under its client-made id (a retry stores nothing twice). Each new
report of an agency gets the next version number; totals use the latest version, while
timeliness follows the first one: correcting figures after the deadline does not make an
agency that reported in time late.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from exports.coverage import coverage_pct

from ..households.records import Conflict
from ..storage import DocumentSpace

__all__ = ["AgencyReportStore", "STATUSES", "timeliness", "agency_rows", "agency_totals", "FIGURES"]

STATUSES = ("on_time", "late", "pending", "overdue")
FIGURES = ("staff_total", "smartphone_users", "installed")
_SERVER = ("version", "submitted_at", "account")


def _content(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k not in _SERVER}


class AgencyReportStore:
    """All agency reports of the campaign, in the collection ``agency_reports``."""

    def __init__(self, space: DocumentSpace):
        self.collection = space.collection("agency_reports", "reports")

    def add(self, record: dict, account: str, stamp: Callable[[], str]) -> tuple[dict, bool]:
        """Store a validated report as the agency's next version; (stored, created)."""
        with self.collection.update() as docs:
            existing = docs.get(record["id"])
            if existing is not None:
                if _content(existing) != _content(record):
                    raise Conflict(existing)
                return existing, False
            version = 1 + sum(1 for d in docs.all().values() if d["agency_code"] == record["agency_code"])
            stored = {**record, "version": version, "submitted_at": stamp(), "account": account}
            docs.put(record["id"], stored)
        return stored, True

    def versions(self, codes: Iterable[str]) -> list[dict]:
        """Every report of ``codes``, oldest first."""
        wanted = set(codes)
        return [doc for doc in self.collection.documents().values() if doc["agency_code"] in wanted]

    def by_agency(self, codes: Iterable[str]) -> dict[str, list[dict]]:
        """Reports grouped by agency, each list oldest first."""
        out: dict[str, list[dict]] = {}
        for doc in self.versions(codes):
            out.setdefault(doc["agency_code"], []).append(doc)
        for docs in out.values():
            docs.sort(key=lambda d: d["version"])
        return out


def timeliness(first_submitted: str | None, deadline: dt.date, now: dt.datetime) -> str:
    """on_time / late by the day the first report arrived, in ``now``'s (the campaign's) time zone;
    pending / overdue when none has arrived, before or after the deadline day."""
    if first_submitted is None:
        return "pending" if now.date() <= deadline else "overdue"
    arrived = dt.datetime.fromisoformat(first_submitted).astimezone(now.tzinfo).date()
    return "on_time" if arrived <= deadline else "late"


def agency_rows(registry: dict[str, dict], reports: dict[str, list[dict]], codes: Iterable[str],
                deadline: dt.date, now: dt.datetime) -> list[dict]:
    """One row per agency: the latest figures (None if it has not reported) and its status."""
    rows = []
    for code in codes:
        agency, docs = registry[code], reports.get(code, [])
        first, last = (docs[0], docs[-1]) if docs else (None, None)
        row = {"code": code, "name": agency["name"], "group": agency["group"],
               "status": timeliness(first["submitted_at"] if first else None, deadline, now),
               "versions": len(docs),
               "first_submitted_at": first["submitted_at"] if first else None,
               "submitted_at": last["submitted_at"] if last else None,
               "reported_on": last["reported_on"] if last else None,
               "reporter_name": last["reporter_name"] if last else None,
               "reporter_phone": last["reporter_phone"] if last else None,
               **{f: last[f] if last else None for f in FIGURES}}
        row["coverage_pct"] = coverage_pct(last["installed"], last["smartphone_users"]) if last else None
        rows.append(row)
    return rows


def agency_totals(rows: list[dict]) -> dict:
    """Sums over the agencies that reported, and how many are in each status."""
    reported = [r for r in rows if r["versions"]]
    totals = {f: sum(r[f] for r in reported) for f in FIGURES}
    totals["coverage_pct"] = coverage_pct(totals["installed"], totals["smartphone_users"])
    totals["agencies"] = len(rows)
    totals["reported"] = len(reported)
    totals.update({status: sum(r["status"] == status for r in rows) for status in STATUSES})
    return totals
