"""Aggregate tables shaped for files: headings in the user's language, a sheet per level."""

from __future__ import annotations

from exports.aggregate import column_headings, figure_columns, total_row

from ..campaign import aggregate_rows, campaign
from ..i18n import translate
from ..policy import levels_for


def _keys(level: str) -> list[str]:
    form = campaign().form
    lead = ["code", "name"]
    if level == "commune":
        lead.append("district_code")
    if level == "hamlet":
        lead = ["commune_code", "commune_name", "name"]
    return lead + figure_columns(form)


def aggregate_table(level: str, communes: list[int], lang: str) -> tuple[list[str], list[str], list[dict]]:
    """(headings, keys, rows) for one level."""
    camp = campaign()
    keys = _keys(level)
    return column_headings(camp.form, keys, lang), keys, aggregate_rows(camp, level, communes)


def aggregate_sheets(communes: list[int], lang: str, role: str) -> list[tuple]:
    """One sheet per level the role may see, each with a totals row where it adds up."""
    camp = campaign()
    sheets = []
    for level in levels_for(role):
        headings, keys, rows = aggregate_table(level, communes, lang)
        table = [[r.get(k, "") for k in keys] for r in rows]
        if level != "province" and rows:
            total = total_row(rows, camp.form, translate("total", lang))
            table.append([total.get(k, "") for k in keys])
        widths = [12 if k.endswith("code") else 30 if k.endswith("name") else 14 for k in keys]
        sheets.append((translate("sheet_" + level, lang), headings, table, widths))
    return sheets
