"""CSV, XLSX and JSON writers: tables in, bytes out; they know nothing of the survey.

CSV is UTF-8 with a BOM so that Excel shows Vietnamese as written. A household's name must
never become a command, whatever list separator the spreadsheet uses (Excel in Vietnamese
splits on ";", since "," is the decimal mark, and does not honour quotes in mid-field): every
text field is quoted, and wherever a cell could begin (at the start, or after any ",", ";",
tab or line break) a = + - @ gets an apostrophe before it. In XLSX, text is stored as text
with the cell's quotePrefix style instead (``xlsx.py``): no formula, no stray apostrophe.
Household lists are streamed row by row, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from .xlsx import write_workbook

__all__ = ["safe_cell", "csv_rows", "xlsx_sheets", "xlsx_bytes", "xlsx_file", "json_bytes"]

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_FORMULA_FIRST = frozenset(_FORMULA_START)
# A trigger where a spreadsheet splitting on any separator would start a cell.
_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n] *)(?=[=+\-@])")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would take as a formula; other values pass as they are."""
    if type(value) is not str:
        return value
    value = _AFTER_SEPARATOR.sub(r"\1'", value)
    return "'" + value if value[:1] in _FORMULA_FIRST else value


def _safe_row(row: Iterable[Any]) -> list:
    """``safe_cell`` over a row, with a fast path: it runs for every cell of a province's export."""
    first, inner = _FORMULA_FIRST, _AFTER_SEPARATOR.search
    return [safe_cell(v) if type(v) is str and (v[:1] in first or inner(v)) else v for v in row]


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
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
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

    Headings are bold and frozen so they stay on screen and on every printed page. Text
    goes in as it is: the XLSX writer stores it as text, never as a formula.
    """
    write_workbook(sheets, out)


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


def json_bytes(value: Any) -> bytes:
    """JSON for downloads: UTF-8, indented, Vietnamese left readable."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)
