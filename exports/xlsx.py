"""A streamed XLSX writer: sheet XML written row by row straight into the zip.

openpyxl's write-only mode builds an element per cell and writes about 6,000 household
rows a second here; a whole province (230,000 rows) took over half a minute. The parts of
SpreadsheetML a household list needs (inline strings, numbers, a bold frozen heading row,
column widths, print titles) are a few lines of XML each, so this writes them directly:
one formatted string per row, deflated as it goes, memory bounded by one row.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter, quote_sheetname

__all__ = ["SHEET_ROWS", "write_workbook"]

Sheet = tuple[str, list[str], Iterable[Iterable[Any]], list[int]]

SHEET_ROWS = 1_048_575  # a worksheet's 1,048,576 rows, less the heading row
_END = object()

# Characters XML 1.0 cannot carry at all; a phone keyboard does not type them, but a
# file must open whatever a record holds.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_STYLES = (_XML + f'<styleSheet {_NS}>'
           '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
           '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
           '<fills count="2"><fill><patternFill patternType="none"/></fill>'
           '<fill><patternFill patternType="gray125"/></fill></fills>'
           '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
           '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
           '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
           '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
           '</styleSheet>')


def _text(value: str) -> str:
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return escape(value)


# Text a spreadsheet would read as a formula if typed: marked quotePrefix (style 2), so it
# stays text even when someone edits the cell, and shows with no apostrophe.
_FORMULA_FIRST = frozenset("=+-@\t\r\n")


def _cell(ref: str, value: Any, style: str = "") -> str:
    """One cell: numbers as numbers, everything else as an inline string (never a formula)."""
    if type(value) is str and value:
        if not style and value[0] in _FORMULA_FIRST:
            style = ' s="2"'
        return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}</t></is></c>'


def _sheet_head(headings: list[str], widths: list[int], letters: list[str]) -> str:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
    head = "".join(_cell(f"{letters[i]}1", text, ' s="1"') for i, text in enumerate(headings))
    return (_XML + f'<worksheet {_NS} {_REL_NS}><sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "")
            + f'<sheetData><row r="1">{head}</row>')


def _write_sheet(zf: zipfile.ZipFile, index: int, headings: list[str], rows: Iterable[Iterable[Any]],
                 widths: list[int]) -> None:
    """Stream one worksheet part, a batch of rows per write."""
    letters = [get_column_letter(i) for i in range(1, max(len(headings), 1) + 200)]
    with zf.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True) as out:
        out.write(_sheet_head(headings, widths, letters).encode())
        batch: list[str] = []
        for n, row in enumerate(rows, 2):
            cells = "".join(_cell(f"{letters[i]}{n}", v) for i, v in enumerate(row))
            batch.append(f'<row r="{n}">{cells}</row>')
            if len(batch) == 500:
                out.write("".join(batch).encode())
                batch.clear()
        out.write(("".join(batch) + '</sheetData><pageMargins left="0.75" right="0.75" top="1" '
                   'bottom="1" header="0.5" footer="0.5"/></worksheet>').encode())


def _workbook(titles: list[str]) -> str:
    sheets = "".join(f'<sheet name={quoteattr(t)} sheetId="{i}" r:id="rId{i}"/>'
                     for i, t in enumerate(titles, 1))
    names = "".join(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
                    f'{escape(quote_sheetname(t))}!$1:$1</definedName>' for i, t in enumerate(titles))
    return (_XML + f'<workbook {_NS} {_REL_NS}><bookViews><workbookView/></bookViews>'
            f'<sheets>{sheets}</sheets><definedNames>{names}</definedNames></workbook>')


def _package_parts(titles: list[str]) -> dict[str, str]:
    n = len(titles)
    sheet_types = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, n + 1))
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1))
    return {
        "[Content_Types].xml": _XML
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>' + sheet_types + "</Types>",
        "_rels/.rels": _XML
        + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/_rels/workbook.xml.rels": _XML + '<Relationships xmlns="http://schemas.openxmlformats.org/'
        f'package/2006/relationships">{rels}<Relationship Id="rId{n + 1}" '
        'Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/workbook.xml": _workbook(titles),
        "xl/styles.xml": _STYLES,
    }


def write_workbook(sheets: Iterable[Sheet], out: IO[bytes], rows_per_sheet: int = SHEET_ROWS) -> None:
    """Write sheets (title, headings, rows, column widths) to ``out`` as an XLSX package.

    Text is stored as inline strings, so a cell is never a formula whatever it holds;
    text that starts like a formula carries the quotePrefix style as well. A sheet with more
    rows than a worksheet holds goes on in continuation sheets ("Hộ (2)", ...), each with the
    heading row again: Excel refuses a file with one row past its limit, and the rows are
    streamed, so the count is known only at the end, when the workbook's index is written.
    """
    wanted: list[str] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for title, headings, rows, widths in sheets:
            for part, chunk in enumerate(_chunks(rows, rows_per_sheet)):
                wanted.append(title if part == 0 else f"{title[:24]} ({part + 1})")
                _write_sheet(zf, len(wanted), headings, chunk, widths)
        for name, text in _package_parts(_titles(wanted)).items():
            zf.writestr(name, text)


def _chunks(rows: Iterable[Iterable[Any]], size: int) -> Iterator[Iterable[Iterable[Any]]]:
    """Rows in runs of at most ``size``, lazily; always at least one run (a sheet of headings
    alone is still a sheet)."""
    it = iter(rows)
    first = next(it, _END)
    while True:
        yield chain([first], islice(it, size - 1)) if first is not _END else ()
        first = next(it, _END)
        if first is _END:
            return


def _titles(wanted: list[str]) -> list[str]:
    """Sheet names Excel accepts: at most 31 characters, none of []:*?/\\, all different."""
    titles: list[str] = []
    for n, title in enumerate(wanted, 1):
        clean = re.sub(r"[\[\]:*?/\\]", " ", title)[:31].strip() or f"Sheet{n}"
        while clean in titles:
            clean = f"{clean[:28]} {n}"
        titles.append(clean)
    return titles
