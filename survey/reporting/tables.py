"""Tables shaped for files and pages: headings in the user's language, one row per unit or
household. Downloads, the CLI and the pages share these, so a file and a screen agree."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..forms import FormDefinition
from ..gazetteer import Gazetteer
from ..i18n import translate
from ..policy import levels_for
from .aggregate import aggregate_rows, column_headings, figure_columns, total_row

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["aggregate_table", "aggregate_sheets", "household_columns", "household_headings", "household_rows",
           "agency_sheet"]



def _keys(form: FormDefinition, level: str) -> list[str]:
    lead = ["code", "name"]
    if level == "commune":
        lead.append("district_code")
    if level == "hamlet":
        lead = ["commune_code", "commune_name", "name"]
    return lead + figure_columns(form)


def aggregate_table(camp: Campaign, level: str, communes: list[int],
                    lang: str) -> tuple[list[str], list[str], list[dict]]:
    """(headings, keys, rows) for one level."""
    keys = _keys(camp.form, level)
    return column_headings(camp.form, keys, lang), keys, aggregate_rows(camp, level, communes)


def aggregate_sheets(camp: Campaign, communes: list[int], lang: str, role: str) -> list[tuple]:
    """One sheet per level the role may see, each with a totals row where it adds up."""
    sheets = []
    for level in levels_for(role):
        headings, keys, rows = aggregate_table(camp, level, communes, lang)
        table = [[r.get(k, "") for k in keys] for r in rows]
        if level != "province" and rows:
            total = total_row(rows, camp.form, translate("total", lang))
            table.append([total.get(k, "") for k in keys])
        widths = [12 if k.endswith("code") else 30 if k.endswith("name") else 14 for k in keys]
        sheets.append((translate("sheet_" + level, lang), headings, table, widths))
    return sheets


# Columns the export adds beside the form's; their headings are catalogue entries ("export_<column>").
_SERVER_HEADINGS = frozenset({"commune_name", "district_code", "district_name", "officer", "created_at", "updated_at"})


def household_columns(form: FormDefinition) -> list[str]:
    """Export columns: every form field, with unit names and server fields beside them."""
    cols: list[str] = []
    for name in form.names:
        cols.append(name)
        if form.field(name)["type"] == "commune":
            cols += ["commune_name", "district_code", "district_name"]
    return cols + ["officer", "created_at", "updated_at"]


def household_headings(form: FormDefinition, lang: str) -> list[str]:
    """Headings of the household export in ``lang``."""
    return [translate(f"export_{c}", lang) if c in _SERVER_HEADINGS else form.label(c, lang)
            for c in household_columns(form)]


def household_rows(records: Iterable[dict], form: FormDefinition, gazetteer: Gazetteer,
                   lang: str | None = None) -> Iterator[list]:
    """One list of cell values per record, in ``household_columns`` order; choices are
    written as their labels in ``lang`` (people read these files), as codes when it is None."""
    columns = household_columns(form)
    lists = [i for i, col in enumerate(columns) if col in set(form.names_of_type("choices"))]
    labels = {i: form.choice_labels(columns[i], lang) if lang else {} for i in lists}
    named = {col: columns.index(col) for col in ("commune_name", "district_name") if col in columns}
    units: dict[Any, dict[str, str]] = {}
    for rec in records:
        code = rec["commune_code"]
        names = units.get(code)
        if names is None:
            names = units[code] = _unit_names(code, gazetteer)
        row = [rec.get(col) for col in columns]
        for col, i in named.items():
            row[i] = names[col]
        for i in lists:
            row[i] = "; ".join(labels[i].get(code, code) for code in row[i] or [])
        yield ["" if v is None else v for v in row]


def _unit_names(commune_code: Any, gazetteer: Gazetteer) -> dict[str, str]:
    commune = gazetteer.communes.get(commune_code)
    district = gazetteer.districts.get(commune.parent) if commune else None
    return {"commune_name": commune.name if commune else "",
            "district_name": district.name if district else ""}


# The agency table's columns in order; their headings are the catalogue's "col_<key>".
_COLUMNS = ("code", "name", "group", "status", "versions", "first_submitted_at", "submitted_at", "reported_on",
            "staff_total", "smartphone_users", "installed", "coverage_pct", "reporter_name", "reporter_phone")


def _cell(row: dict, key: str, lang: str, groups: dict[str, dict[str, str]]):
    """A table cell: statuses and groups in words, missing figures blank."""
    if key == "status":
        return translate("status_" + row[key], lang)
    if key == "group":
        return groups.get(row[key], {}).get(lang, row[key])
    return "" if row[key] is None else row[key]


def agency_sheet(rows: list[dict], groups: dict[str, dict[str, str]], lang: str) -> tuple:
    """(title, headings, rows, widths) of the agency table, for the CSV and XLSX writers."""
    keys = list(_COLUMNS)
    table = [[_cell(r, k, lang, groups) for k in keys] for r in rows]
    return (translate("sheet_agencies", lang), [translate("col_" + k, lang) for k in keys], table,
            [12, 34, 22, 20, 8, 22, 22, 12, 10, 10, 10, 10, 20, 14])
