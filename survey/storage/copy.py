"""Copy households from one backend to another (TinyDB files <-> PostgreSQL), then check the copy.

A copy can be run again at any time: records the target lacks are added in batches, records
it holds with other content (or in another commune) are replaced by the source's, records it
holds as they are stay untouched. The check then compares, commune by commune, the record
count and the hamlet figures each backend derives from its own records, and sums both up to
district and province: the copy is good only if every level agrees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .interface import HouseholdBackend
from .tallies import KeptSummary

__all__ = ["BATCH", "CopyReport", "copy_households", "verify_copy"]

BATCH = 5000  # records a bulk insert takes at once: memory stays flat, progress moves


@dataclass
class CopyReport:
    """What a copy did and, after ``verify_copy``, where the two sides differ."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    only_in_target: int = 0
    mismatches: list[str] = field(default_factory=list)


def _copy_commune(source: HouseholdBackend, target: HouseholdBackend, code: int, report: CopyReport,
                  progress: Callable[[int], None]) -> None:
    records = list(source.scan(code, cache=False))
    held = {r["id"]: r for r in target.scan(code, cache=False)}
    report.only_in_target += len(held.keys() - {r["id"] for r in records})
    fresh = [r for r in records if r["id"] not in held]
    for start in range(0, len(fresh), BATCH):
        batch = fresh[start:start + BATCH]
        report.added += target.bulk_insert(code, batch)
        progress(len(batch))
    for record in records:
        stored = held.get(record["id"]) or target.get(record["id"])
        if stored == record:
            report.unchanged += record["id"] in held
        elif stored is not None:
            target.replace(record, stored["commune_code"])  # changed since, or moved: the source wins
            report.replaced += 1
    progress(len(records) - len(fresh))


def copy_households(source: HouseholdBackend, target: HouseholdBackend, communes: Iterable[int],
                    progress: Callable[[int], None] = lambda n: None) -> CopyReport:
    """Bring ``target`` to hold every record of ``communes`` that ``source`` holds, as it holds it."""
    report = CopyReport()
    for code in communes:
        _copy_commune(source, target, int(code), report, progress)
    return report


def _figures(backend: HouseholdBackend, code: int, summary: KeptSummary) -> dict[str, Any]:
    """One commune's count and hamlet rows as this backend derives them from its own records."""
    hamlets = backend.derived(code, "hamlets", lambda records: summary.finish(summary.tally(records)))
    return {"records": backend.count([code]), "hamlets": [dict(row) for row in hamlets.rows],
            "totals": dict(hamlets.totals)}


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    """Add a unit's count and totals (one flat mapping) into a larger unit's."""
    for name, value in more.items():
        into[name] = into.get(name, 0) + value


def verify_copy(source: HouseholdBackend, target: HouseholdBackend, districts: Mapping[int, list[int]],
                summary: KeptSummary, report: CopyReport) -> dict[str, int]:
    """Compare counts and figures at hamlet, commune, district and province level; each
    difference goes into ``report.mismatches``. Returns how many units of each level agree."""
    agreed = {"hamlet": 0, "commune": 0, "district": 0, "province": 0}
    province: tuple[dict, dict] = ({}, {})
    for district, communes in districts.items():
        sums: tuple[dict, dict] = ({}, {})
        for code in communes:
            mine, theirs = _figures(source, code, summary), _figures(target, code, summary)
            if mine["hamlets"] == theirs["hamlets"]:
                agreed["hamlet"] += len(mine["hamlets"])
            else:
                report.mismatches.append(f"commune {code}: hamlet figures differ")
            if (mine["records"], mine["totals"]) == (theirs["records"], theirs["totals"]):
                agreed["commune"] += 1
            else:
                report.mismatches.append(f"commune {code}: {mine['records']} records here, {theirs['records']} there")
            for side, figures in zip(sums, (mine, theirs)):
                _add(side, {"records": figures["records"], **figures["totals"]})
        if sums[0] == sums[1]:
            agreed["district"] += 1
        else:
            report.mismatches.append(f"district {district}: totals differ")
        for side, figures in zip(province, sums):
            _add(side, figures)
    if province[0] == province[1]:
        agreed["province"] = 1
    else:
        report.mismatches.append("province: totals differ")
    return agreed
