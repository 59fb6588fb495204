"""Aggregation of household records into hamlet, commune, district and province figures.

Each commune's records are summarised by hamlet once (and kept by the store until the
commune changes); higher levels add those summaries up along the gazetteer, so every unit
in scope gets a row, zeros included: the gaps are the point. A province request adds up
151 small dicts of kept totals: plain Python, no DataFrame, because building one per
request would cost more than the adding up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from exports.coverage import coverage_pct

from ..forms import FormDefinition
from ..gazetteer import Gazetteer
from ..i18n import translate
from ..text import place_key
from .answers import kept_answers

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["LEVELS", "HamletSummary", "hamlet_summary", "hamlet_tally", "merge_tallies", "tally_summary",
           "rollup", "aggregate_rows", "figure_columns", "column_headings", "total_row", "coverage_pct"]

LEVELS = ("province", "district", "commune", "hamlet")

# Columns whose headings are catalogue entries ("heading_<column>"); the rest come from the form.
_HEADINGS = frozenset({"code", "name", "district_code", "district_name", "commune_code", "commune_name",
                       "households", "installed_total", "coverage_pct"})


def reason_columns(form: FormDefinition) -> list[str]:
    """One count column per choice of the form's reasons question."""
    field = form.aggregate["counts"]
    return [f"reason_{value}" for value in form.choice_labels(field, "en")]


def figure_columns(form: FormDefinition) -> list[str]:
    """The numeric columns of an aggregate row, in order."""
    return ["households", *form.aggregate["sums"], "installed_total", "coverage_pct", *reason_columns(form)]


def column_headings(form: FormDefinition, columns: Iterable[str], lang: str) -> list[str]:
    """Human headings for aggregate columns, from the form's labels where it has them."""
    counts = form.aggregate["counts"]
    reasons = form.choice_labels(counts, lang)
    prefix = translate("heading_reason_prefix", lang)
    out = []
    for col in columns:
        if col in _HEADINGS:
            out.append(translate(f"heading_{col}", lang))
        elif col.startswith("reason_"):
            out.append(prefix + reasons[col[len("reason_"):]])
        else:
            out.append(form.label(col, lang))
    return out


def _numbers(form: FormDefinition) -> list[str]:
    """The columns a summary adds up: households, the form's sums, one per reason."""
    return ["households", *form.aggregate["sums"], *reason_columns(form)]


class HamletSummary:
    """One commune's rows by hamlet (sorted by place key) and their totals, computed once."""

    __slots__ = ("rows", "totals")

    def __init__(self, rows: list[dict], numbers: list[str]):
        self.rows = rows
        self.totals = {col: sum(r[col] for r in rows) for col in numbers}

    def __len__(self) -> int:
        return len(self.rows)


def hamlet_summary(records: list[dict], form: FormDefinition) -> HamletSummary:
    """Sums per hamlet of one commune, hamlets told apart by ``place_key``.

    The displayed name is the spelling most used for that hamlet (the first seen on a tie).
    """
    return tally_summary(hamlet_tally(records, form), form)


Tally = dict[str, list]  # place key -> [[households, sums..., reasons...], {spelling: count}]


def hamlet_tally(records: Iterable[dict], form: FormDefinition) -> Tally:
    """Running totals per hamlet, in plain JSON-able lists, that two batches of records can add.

    One pass in plain Python: a commune is tallied again after each of its writes, and
    pandas' per-call overhead would cost more than the adding up.
    """
    agg = form.aggregate
    place, sums, counts = agg["place"], agg["sums"], agg["counts"]
    reasons = {col[len("reason_"):]: i for i, col in enumerate(reason_columns(form), 1 + len(sums))}
    width = 1 + len(sums) + len(reasons)
    keys: dict[str, str] = {}
    tally: Tally = {}
    for rec in records:
        name = rec.get(place)
        key = keys.get(name)
        if key is None:
            key = keys[name] = place_key(name)
        entry = tally.get(key)
        if entry is None:
            entry = tally[key] = [[0] * width, {}]
        row, spellings = entry
        row[0] += 1
        for i, col in enumerate(sums, 1):
            row[i] += rec.get(col) or 0
        for choice in set(rec.get(counts) or ()):
            if choice in reasons:
                row[reasons[choice]] += 1
        spellings[name] = spellings.get(name, 0) + 1
    return tally


def merge_tallies(first: Tally, then: Tally) -> Tally:
    """``first`` plus ``then`` (records in that order), as a new tally; neither is changed."""
    out = {key: [list(row), dict(spellings)] for key, (row, spellings) in first.items()}
    for key, (row, spellings) in then.items():
        if key not in out:
            out[key] = [list(row), dict(spellings)]
            continue
        mine = out[key]
        mine[0] = [a + b for a, b in zip(mine[0], row)]
        for name, n in spellings.items():
            mine[1][name] = mine[1].get(name, 0) + n
    return out


def tally_summary(tally: Tally, form: FormDefinition) -> HamletSummary:
    """The hamlet summary of a tally: sorted by key, the most used spelling as name."""
    numbers = _numbers(form)
    rows = [{"key": key, "name": _most_used(tally[key][1]), **dict(zip(numbers, tally[key][0]))}
            for key in sorted(tally)]
    return HamletSummary(rows, numbers)


def _most_used(spellings: dict[str, int]) -> str:
    """The spelling with the highest count; the first seen wins a tie (dicts keep that order)."""
    best, most = "", -1
    for name, n in spellings.items():
        if n > most:
            best, most = name, n
    return best


def _finish(row: dict, form: FormDefinition) -> dict:
    """Add the derived figures (installed_total, coverage_pct) and make every number an int."""
    agg = form.aggregate
    for col in ["households", *agg["sums"], *reason_columns(form)]:
        row[col] = int(row.get(col, 0))
    total = sum(row[c] for c in agg["installed"])
    row["installed_total"] = total
    row["coverage_pct"] = coverage_pct(total, row[agg["base"]])
    return row


def rollup(summaries: Mapping[int, HamletSummary], gazetteer: Gazetteer, form: FormDefinition,
           level: str, communes: Iterable[int]) -> list[dict]:
    """Rows for ``level`` over the communes in scope (``summaries`` holds their hamlet sums)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    communes = list(communes)
    numbers = _numbers(form)
    if level == "hamlet":
        rows = []
        for code in communes:
            unit = gazetteer.communes[code]
            for rec in summaries[code].rows:
                rows.append(_finish({"code": f"{code}:{rec['key']}", "name": rec["name"],
                                     "commune_code": code, "commune_name": unit.name,
                                     "district_code": unit.parent,
                                     **{c: rec[c] for c in numbers}}, form))
        return rows
    per_commune = {code: summaries[code].totals for code in communes}
    if level == "commune":
        return [_finish({"code": code, "name": gazetteer.communes[code].name,
                         "district_code": gazetteer.district_of(code),
                         **per_commune[code]}, form) for code in communes]
    if level == "district":
        rows = []
        for district, members in gazetteer.communes_of.items():
            inside = [per_commune[c] for c in members if c in per_commune]
            if inside:
                rows.append(_finish({"code": district, "name": gazetteer.districts[district].name,
                                     **_add(inside, numbers)}, form))
        return rows
    return [_finish({"code": gazetteer.province.code, "name": gazetteer.province.name,
                     **_add(per_commune.values(), numbers)}, form)]


def _add(rows: Iterable[Mapping[str, int]], numbers: list[str]) -> dict[str, int]:
    totals = dict.fromkeys(numbers, 0)
    for row in rows:
        for col in numbers:
            totals[col] += row[col]
    return totals


def total_row(rows: list[dict], form: FormDefinition, label: str) -> dict:
    """A totals row for a table of rows (coverage recomputed, not summed)."""
    numbers = _numbers(form)
    row = {"code": "", "name": label, **{c: sum(r[c] for r in rows) for c in numbers}}
    return _finish(row, form)


def aggregate_rows(camp: Campaign, level: str, communes: list[int]) -> list[dict]:
    """Aggregate rows at ``level`` over ``communes``, kept by this worker until one of the
    communes changes (shared with later callers: do not change them)."""
    communes = list(communes)
    token = camp.households.change_token(communes)  # before anything is read
    return kept_answers(camp).get(("rows", level, tuple(communes)), token,
                                  lambda: _rows(camp, level, communes))


def _rows(camp: Campaign, level: str, communes: list[int]) -> list[dict]:
    """Rows rolled up from per-commune kept summaries."""
    def summarise(records: list[dict]) -> HamletSummary:
        return hamlet_summary(records, camp.form)

    summaries = camp.households.derived_many(communes, "hamlets", summarise)
    return rollup(summaries, camp.gazetteer, camp.form, level, communes)
