"""Bulk import of paper forms: CSV or XLSX in the columns of the household export.

Each row goes through the same schema as a form submitted on a phone. Rows without an
``id`` get one derived from their content, so importing the same file twice stores
nothing new; rows with a bad value are reported with their reasons and not stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterator

from marshmallow import ValidationError
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from exports.writers import household_columns, household_headings

from ..campaign import Campaign
from ..storage import Conflict
from ..text import fold
from ..users import User
from .service import OutsideArea, submit

__all__ = ["ImportReport", "read_rows", "import_rows", "template_xlsx", "ImportFileError"]

# Ids for rows that come without one: the same row content always gives the same id.
ROW_NAMESPACE = uuid.UUID("5b1d0c6e-8f0a-4c1e-9a57-2a1f3c0b2020")
SERVER_COLUMNS = {"commune_name", "district_code", "district_name", "officer", "created_at", "updated_at"}


class ImportFileError(ValueError):
    """The file cannot be read as a table of households; the message says why."""


@dataclass
class ImportReport:
    """What an import did: counts, and each bad row with its reasons."""

    created: int = 0
    unchanged: int = 0
    errors: list[tuple[int, dict]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.unchanged + len(self.errors)


def _header_map(camp: Campaign) -> dict[str, str]:
    """Folded heading (API name, Vietnamese or English label) -> column name."""
    columns = household_columns(camp.form)
    mapping = {}
    for lang in ("vi", "en"):
        for col, heading in zip(columns, household_headings(camp.form, lang)):
            mapping[fold(heading)] = col
    mapping.update({fold(c): c for c in columns})
    return mapping


def read_rows(camp: Campaign, filename: str, stream: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {column: raw value}) for each non-empty row of a CSV or XLSX file."""
    if filename.lower().endswith(".xlsx"):
        rows = _xlsx_rows(stream)
    elif filename.lower().endswith(".csv"):
        rows = _csv_rows(stream)
    else:
        raise ImportFileError("the file must be .csv or .xlsx")
    mapping = _header_map(camp)
    try:
        headings = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    columns = [mapping.get(fold(str(h or ""))) for h in headings]
    if "commune_code" not in columns:
        raise ImportFileError("no commune column: use the headings of the household export or the template")
    unknown = [str(h) for h, c in zip(headings, columns) if c is None and h not in (None, "")]
    if unknown:
        raise ImportFileError(f"unknown columns: {', '.join(unknown)}")
    for number, row in enumerate(rows, start=2):
        if all(v in (None, "") for v in row):
            continue
        yield number, {c: v for c, v in zip(columns, row) if c and c not in SERVER_COLUMNS}


def _csv_rows(stream: IO[bytes]) -> Iterator[list]:
    try:
        text = stream.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError("the CSV file is not UTF-8: save it as 'CSV UTF-8'") from None
    return iter(csv.reader(io.StringIO(text)))


def _xlsx_rows(stream: IO[bytes]) -> Iterator[list]:
    try:
        wb = load_workbook(io.BytesIO(stream.read()), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a damaged file
        raise ImportFileError(f"the XLSX file cannot be read: {exc}") from None
    return (list(r) for r in wb.worksheets[0].iter_rows(values_only=True))


def _typed(camp: Campaign, raw: dict[str, Any]) -> dict[str, Any]:
    """Spreadsheet cells to the JSON shape the schema checks; bad values stay for it to name."""
    data: dict[str, Any] = {}
    for name, value in raw.items():
        spec = camp.form.field(name)
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
                value = value[1:]  # undo the export's formula guard
        if value in (None, ""):
            continue
        kind = spec["type"]
        if kind in ("integer", "commune"):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
                value = int(value)
        elif kind == "choices":
            value = [_choice_code(camp, name, v.strip()) for v in str(value).split(";") if v.strip()]
        elif kind == "date" and isinstance(value, (dt.date, dt.datetime)):
            value = (value.date() if isinstance(value, dt.datetime) else value).isoformat()
        elif kind in ("text", "uuid") and not isinstance(value, str):
            value = str(value)
        data[name] = value
    return data


def _choice_code(camp: Campaign, name: str, value: str) -> str:
    """A choice as the export writes it (its Vietnamese or English label) or as its code."""
    for lang in ("vi", "en"):
        for code, label in camp.form.choice_labels(name, lang).items():
            if fold(label) == fold(value):
                return code
    return value


def _row_id(data: dict) -> str:
    """A stable id from the row's content, for paper forms that have none."""
    key = "|".join(f"{k}={data[k]}" for k in sorted(data))
    return str(uuid.uuid5(ROW_NAMESPACE, key))


def import_rows(camp: Campaign, user: User, rows: Iterator[tuple[int, dict]], lang: str = "vi",
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate and store each row; the same rules and scope as the form."""
    report = ImportReport()
    schema = camp.schemas.schema(lang)
    for number, raw in rows:
        try:
            record = schema.load(_typed(camp, raw))
        except ValidationError as exc:
            report.errors.append((number, exc.messages))
        else:
            record.setdefault("id", _row_id(record))
            try:
                _, created = submit(camp, user, record)
            except OutsideArea:
                report.errors.append((number, {"commune_code": ["outside your area"]}))
            except Conflict:
                report.errors.append((number, {"id": ["another household is stored under this id"]}))
            else:
                report.created += created
                report.unchanged += not created
        if progress:
            progress(1)
    return report


def template_xlsx(camp: Campaign, user: User, lang: str = "vi") -> bytes:
    """An empty import sheet: export headings, drop-down lists for communes and whole-number checks."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Hộ gia đình" if lang == "vi" else "Households"
    columns = household_columns(camp.form)
    ws.append(household_headings(camp.form, lang))
    lists = wb.create_sheet("Danh mục" if lang == "vi" else "Lists")
    communes = sorted(user.writable) or sorted(camp.gazetteer.communes)
    for i, code in enumerate(communes, 1):
        lists.cell(i, 1, code)
        lists.cell(i, 2, camp.gazetteer.communes[code].name)
    reasons = list(camp.form.choice_labels(camp.form.aggregate["counts"], "en"))
    for i, value in enumerate(reasons, 1):
        lists.cell(i, 4, value)
    for idx, col in enumerate(columns, 1):
        letter = ws.cell(1, idx).column_letter
        ws.column_dimensions[letter].width = 18
        target = f"{letter}2:{letter}2000"
        spec = camp.form.by_name.get(col)
        if spec and spec["type"] == "commune":
            dv = DataValidation(type="list", formula1=f"='{lists.title}'!$A$1:$A${len(communes)}")
        elif spec and spec["type"] == "integer":
            dv = DataValidation(type="whole", operator="between", formula1=str(spec["min"]), formula2=str(spec["max"]))
        elif spec and spec["type"] == "choices":
            dv = DataValidation(type="list", formula1=f"='{lists.title}'!$D$1:$D${len(reasons)}")
        elif spec and spec["type"] == "date":
            dv = DataValidation(type="date", operator="greaterThan", formula1="43831")  # after 2020-01-01
        else:
            continue
        dv.error = {"vi": "Giá trị không hợp lệ", "en": "Invalid value"}[lang]
        # several reasons go in one cell ("declined;not_home"): the list only suggests
        dv.showErrorMessage = not (spec and spec["type"] == "choices")
        ws.add_data_validation(dv)
        dv.add(target)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
