"""Reading uploaded tables (CSV or XLSX) so that a small hostile file cannot take a worker.

Every upload of a table (household imports, account lists) goes through ``read_table``. An
XLSX file is a zip of XML: a 5 KB file can claim a million rows in its ``<dimension>``, unpack
to gigabytes, or hold a shared-strings table that fills the memory. So the archive is checked
from its directory before anything is decompressed (members, compression methods, unpacked
sizes, ratio; zipfile never inflates a member past its declared size), ``<dimension>`` is
ignored, and rows are streamed with caps on rows and columns. XML is parsed through
defusedxml (openpyxl uses it when installed), so entity expansion is refused too.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from openpyxl import load_workbook

__all__ = ["DEFAULT_LIMITS", "LOCAL_FILE_LIMITS", "Limits", "UploadError", "read_table"]

MB = 1024 * 1024


class UploadError(ValueError):
    """The upload cannot be read as a table within the limits; the message says why (a 4xx)."""


@dataclass(frozen=True)
class Limits:
    """What one upload may hold. The defaults fit the largest paper-form import (50,000 rows)."""

    rows: int = 100_000
    columns: int = 64
    cells: int = 1_500_000
    members: int = 64
    unpacked: int = 64 * MB
    shared_strings: int = 16 * MB
    ratio: int = 100
    # Members smaller than this may compress as well as they like (an empty sheet does).
    ratio_floor: int = MB


DEFAULT_LIMITS = Limits()
# A file an administrator imports from the server's own disk (`flask import`): a whole
# province's export fits; still checked, so a mistaken file fails instead of filling memory.
LOCAL_FILE_LIMITS = Limits(rows=2_000_000, cells=40_000_000, unpacked=2048 * MB, shared_strings=256 * MB)


def read_table(filename: str, stream: IO[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[list[Any]]:
    """Rows of cell values (the heading row first) of a .csv or .xlsx upload; raises UploadError.

    The file's structure is checked before the first row is returned, so a bomb is refused
    by the call itself; caps on rows and columns are enforced while the rows stream.
    """
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(stream.read(), limits)
    elif name.endswith(".csv"):
        rows = _csv_rows(stream.read(), limits)
    else:
        raise UploadError("the file must be .csv or .xlsx")
    return _capped(rows, limits)


def _capped(rows: Iterator[list[Any]], limits: Limits) -> Iterator[list[Any]]:
    """The rows, refusing the file at the first row past the caps."""
    cells = 0
    for number, row in enumerate(rows, start=1):
        cells += len(row)
        if number > limits.rows:
            raise UploadError(f"the file has more than {limits.rows} rows")
        if len(row) > limits.columns:
            raise UploadError(f"row {number} has more than {limits.columns} columns")
        if cells > limits.cells:
            raise UploadError(f"the file has more than {limits.cells} cells")
        yield row


def _csv_rows(raw: bytes, limits: Limits) -> Iterator[list[Any]]:
    """The rows, decoded as they are read: the whole file as text (and csv's copy of it) took
    14 MB of a 50,000-row import's worker for as long as the import ran."""
    _check_utf8(raw)
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline=""))
    try:
        yield from reader
    except csv.Error as exc:  # a field over csv's size limit, a NUL byte
        raise UploadError(f"the CSV file cannot be read at line {reader.line_num}: {exc}") from None


def _check_utf8(raw: bytes) -> None:
    """Refuse a file that is not UTF-8 before its first row, a megabyte decoded at a time."""
    decoder, view, step = codecs.getincrementaldecoder("utf-8")(), memoryview(raw), MB
    try:
        for start in range(0, len(raw), step):
            decoder.decode(view[start:start + step], final=start + step >= len(raw))
    except UnicodeDecodeError:
        raise UploadError("the CSV file is not UTF-8: save it as 'CSV UTF-8'") from None


def check_archive(raw: bytes, limits: Limits) -> None:
    """Refuse a zip whose directory promises too much, before anything is decompressed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError):
        raise UploadError("the XLSX file is not a valid workbook (not a zip archive)") from None
    members = archive.infolist()
    if len(members) > limits.members:
        raise UploadError(f"the XLSX file has {len(members)} parts, more than {limits.members}")
    total = 0
    for info in members:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UploadError(f"the XLSX file uses an unsupported compression in {info.filename}")
        total += info.file_size
        if info.filename.endswith("sharedStrings.xml") and info.file_size > limits.shared_strings:
            raise UploadError("the XLSX file's shared text table is too large to read")
        if info.file_size > limits.ratio_floor and info.file_size > limits.ratio * max(info.compress_size, 1):
            raise UploadError(f"the XLSX file unpacks to more than {limits.ratio} times its size "
                              f"({info.filename}): refused as a zip bomb")
    if total > limits.unpacked:
        raise UploadError(f"the XLSX file unpacks to {total // MB} MB, more than {limits.unpacked // MB} MB")


def _xlsx_rows(raw: bytes, limits: Limits) -> Iterator[list[Any]]:
    check_archive(raw, limits)
    try:
        wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = wb.worksheets[0]
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises several types for a damaged file
        raise UploadError(f"the XLSX file cannot be read: {exc}") from None
    sheet.reset_dimensions()  # <dimension> is the file's claim, not its content
    return _sheet_rows(wb, sheet)


def _sheet_rows(wb, sheet) -> Iterator[list[Any]]:
    try:
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    except UploadError:
        raise
    except Exception as exc:  # noqa: BLE001 -- a member cut short (its CRC fails), malformed XML
        raise UploadError(f"the XLSX file cannot be read: {exc}") from None
    finally:
        wb.close()
