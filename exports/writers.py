"""CSV, XLSX and JSON writers for aggregates and household lists.

CSV is UTF-8 with a BOM so that Excel shows Vietnamese as written. Text cells that a
spreadsheet would run as a formula (starting with = + - @ or a control character) are
prefixed with an apostrophe: a household's name must never become a command.
Household lists are streamed row by row, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import csv
import io
import tempfile
from typing import IO, Any, Iterable, Iterator

import orjson

from survey.forms import FormDefinition
from survey.gazetteer import Gazetteer

from .xlsx import write_workbook

__all__ = ["safe_cell", "csv_rows", "xlsx_sheets", "household_columns", "household_rows", "json_bytes"]

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_FORMULA_FIRST = frozenset(_FORMULA_START)


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would take as a formula; other values pass as they are."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe_row(row: Iterable[Any]) -> list:
    """``safe_cell`` over a row, inlined: it runs for every cell of a province's export."""
    return ["'" + v if type(v) is str and v[:1] in _FORMULA_FIRST else v for v in row]


class _Line(io.StringIO):
    """A buffer csv.writer writes one row into, emptied after each read."""

    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def csv_rows(headings: list[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """CSV text in chunks: BOM and heading first, then one chunk per 500 rows."""
    buf = _Line()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headings)
    yield BOM + buf.take()
    batch: list[list] = []
    for row in rows:
        batch.append(_safe_row(row))
        if len(batch) == 500:
            writer.writerows(batch)
            batch.clear()
            yield buf.take()
    writer.writerows(batch)
    yield buf.take()


def xlsx_sheets(sheets: Iterable[tuple[str, list[str], Iterable[Iterable[Any]], list[int]]],
                out: IO[bytes]) -> None:
    """Write sheets (title, headings, rows, column widths) to ``out`` in constant memory.

    Headings are bold and frozen so they stay on screen and on every printed page.
    """
    write_workbook([(title, headings, (_safe_row(row) for row in rows), widths)
                    for title, headings, rows, widths in sheets], out)


def xlsx_bytes(sheets: Iterable[tuple[str, list[str], Iterable[Iterable[Any]], list[int]]]) -> bytes:
    """The workbook as bytes (for small ones: aggregates)."""
    buf = io.BytesIO()
    xlsx_sheets(sheets, buf)
    return buf.getvalue()


def xlsx_file(sheets: Iterable[tuple[str, list[str], Iterable[Iterable[Any]], list[int]]]) -> IO[bytes]:
    """The workbook in a temporary file, rewound (for large ones: household lists)."""
    fh = tempfile.TemporaryFile()
    xlsx_sheets(sheets, fh)
    fh.seek(0)
    return fh


_SERVER_HEADINGS = {
    "commune_name": {"vi": "Tên xã", "en": "Commune name"},
    "district_code": {"vi": "Mã huyện", "en": "District code"},
    "district_name": {"vi": "Tên huyện", "en": "District name"},
    "officer": {"vi": "Cán bộ nhập", "en": "Officer"},
    "created_at": {"vi": "Thời điểm nhập", "en": "Created at"},
    "updated_at": {"vi": "Thời điểm sửa", "en": "Updated at"},
}


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
    return [_SERVER_HEADINGS[c][lang] if c in _SERVER_HEADINGS else form.label(c, lang)
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


def json_bytes(value: Any) -> bytes:
    """JSON for downloads: UTF-8, indented, Vietnamese left readable."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)
