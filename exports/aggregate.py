"""Aggregation of household records into hamlet, commune, district and province figures.

Each commune's records are summarised by hamlet once (and cached by the store until the
commune's file changes); higher levels add those summaries up along the gazetteer, so
every unit in scope gets a row, zeros included: the gaps are the point.
"""

from __future__ import annotations

import weakref
from typing import Iterable, Mapping

import pandas as pd

from exports.coverage import coverage_pct
from survey.forms import FormDefinition
from survey.gazetteer import Gazetteer
from survey.text import place_key

__all__ = ["LEVELS", "hamlet_summary", "hamlet_tally", "merge_tallies", "tally_frame", "rollup",
           "figure_columns", "column_headings"]

LEVELS = ("province", "district", "commune", "hamlet")

_HEADINGS = {
    "code": {"vi": "Mã", "en": "Code"},
    "name": {"vi": "Tên đơn vị", "en": "Name"},
    "district_code": {"vi": "Mã huyện", "en": "District code"},
    "district_name": {"vi": "Huyện", "en": "District"},
    "commune_code": {"vi": "Mã xã", "en": "Commune code"},
    "commune_name": {"vi": "Xã", "en": "Commune"},
    "households": {"vi": "Số hộ đã đến", "en": "Households visited"},
    "installed_total": {"vi": "Tổng số đã cài", "en": "Installed in all"},
    "coverage_pct": {"vi": "Tỷ lệ cài / người dùng ĐTTM (%)", "en": "Coverage of smartphone users (%)"},
}


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
    prefix = {"vi": "Lý do: ", "en": "Reason: "}[lang]
    out = []
    for col in columns:
        if col in _HEADINGS:
            out.append(_HEADINGS[col][lang])
        elif col.startswith("reason_"):
            out.append(prefix + reasons[col[len("reason_"):]])
        else:
            out.append(form.label(col, lang))
    return out


def _empty_summary(form: FormDefinition) -> pd.DataFrame:
    cols = ["name", "households", *form.aggregate["sums"], *reason_columns(form)]
    return pd.DataFrame(columns=cols, index=pd.Index([], name="key")).astype(
        {c: "int64" for c in cols if c != "name"})


def hamlet_summary(records: list[dict], form: FormDefinition) -> pd.DataFrame:
    """Sums per hamlet of one commune, hamlets told apart by ``place_key``.

    The displayed name is the spelling most used for that hamlet (the first seen on a tie).
    """
    return tally_frame(hamlet_tally(records, form), form)


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


def tally_frame(tally: Tally, form: FormDefinition) -> pd.DataFrame:
    """The hamlet summary DataFrame of a tally: sorted by key, the most used spelling as name."""
    if not tally:
        return _empty_summary(form)
    order = sorted(tally)
    columns = ["households", *form.aggregate["sums"], *reason_columns(form)]
    out = pd.DataFrame([tally[k][0] for k in order], index=pd.Index(order, name="key"),
                       columns=columns, dtype="int64")
    out.insert(0, "name", [_most_used(tally[k][1]) for k in order])
    return out


def _most_used(spellings: dict[str, int]) -> str:
    """The spelling with the highest count; the first seen wins a tie (dicts keep that order)."""
    best, most = "", -1
    for name, n in spellings.items():
        if n > most:
            best, most = name, n
    return best


_TOTALS: dict[tuple[int, tuple[str, ...]], tuple[weakref.ref, dict[str, int]]] = {}


def commune_totals(summary: pd.DataFrame, numbers: list[str]) -> dict[str, int]:
    """One commune's figures: its hamlet summary added up, once per summary object.

    Summaries are cached and never changed, so the totals are kept as long as the summary
    lives: a province query then adds 151 small dicts instead of slicing 151 DataFrames.
    """
    key = (id(summary), tuple(numbers))
    hit = _TOTALS.get(key)
    if hit is not None and hit[0]() is summary:
        return hit[1]
    totals = {col: int(summary[col].to_numpy().sum()) for col in numbers}
    _TOTALS[key] = (weakref.ref(summary, lambda _, k=key: _TOTALS.pop(k, None)), totals)
    return totals


def _finish(row: dict, form: FormDefinition) -> dict:
    """Add the derived figures (installed_total, coverage_pct) and make every number an int."""
    agg = form.aggregate
    for col in ["households", *agg["sums"], *reason_columns(form)]:
        row[col] = int(row.get(col, 0))
    total = sum(row[c] for c in agg["installed"])
    base = row[agg["base"]]
    row["installed_total"] = total
    row["coverage_pct"] = coverage_pct(total, base)
    return row


def rollup(summaries: Mapping[int, pd.DataFrame], gazetteer: Gazetteer, form: FormDefinition,
           level: str, communes: Iterable[int]) -> list[dict]:
    """Rows for ``level`` over the communes in scope (``summaries`` holds their hamlet sums)."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    communes = list(communes)
    numbers = ["households", *form.aggregate["sums"], *reason_columns(form)]
    if level == "hamlet":
        rows = []
        for code in communes:
            summary = summaries[code]
            unit = gazetteer.communes[code]
            for key, rec in summary.iterrows():
                rows.append(_finish({"code": f"{code}:{key}", "name": rec["name"],
                                     "commune_code": code, "commune_name": unit.name,
                                     "district_code": unit.parent,
                                     **{c: rec[c] for c in numbers}}, form))
        return rows
    per_commune = {code: commune_totals(summaries[code], numbers) for code in communes}
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
    numbers = ["households", *form.aggregate["sums"], *reason_columns(form)]
    row = {"code": "", "name": label, **{c: sum(r[c] for r in rows) for c in numbers}}
    return _finish(row, form)
