"""Bulk import of paper forms: CSV or XLSX in the columns of the household export.

Each row goes through the same schema as a form submitted on a phone. Rows without an
``id`` get one derived from their content, so importing the same file twice stores
nothing new; rows with a bad value are reported with their reasons and not stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import orjson
from marshmallow import ValidationError
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from ..i18n import translate
from ..reporting.tables import household_columns, household_headings
from ..storage.cache import CACHE
from ..text import fold
from ..uploads import DEFAULT_LIMITS, Limits, UploadError, read_table
from ..users import User
from .records import content_of
from .service import OutsideArea, _server_fields

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["ImportReport", "read_rows", "import_rows", "template_xlsx", "ImportFileError"]

# Ids for rows that come without one: the same row content always gives the same id.
ROW_NAMESPACE = uuid.UUID("5b1d0c6e-8f0a-4c1e-9a57-2a1f3c0b2020")
# Rows of one commune written at once: one fsync each, and a short lock on the commune. Each
# write rewrites the commune's file and its kept summaries, so fewer, larger batches are cheaper.
BATCH = 4000
# Rows waiting for their commune's batch, across communes, at most: past it, the commune with
# the most rows waiting is stored early. A file spread over the province's 150 communes kept
# up to 32,000 rows (15 MB of JSON) waiting, each commune short of a batch.
WAITING = 6000
SERVER_COLUMNS = {"commune_name", "district_code", "district_name", "officer", "created_at", "updated_at"}


class ImportFileError(UploadError):
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


def read_rows(camp: Campaign, filename: str, stream: IO[bytes],
              limits: Limits = DEFAULT_LIMITS) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, {column: raw value}) for each non-empty row of a CSV or XLSX file."""
    try:
        rows = read_table(filename, stream, limits)
        yield from _mapped(camp, rows)
    except UploadError as exc:
        raise ImportFileError(str(exc)) from None


def _mapped(camp: Campaign, rows: Iterator[list]) -> Iterator[tuple[int, dict[str, Any]]]:
    """The rows under the heading row, keyed by column name; server columns dropped."""
    mapping = _header_map(camp)
    headings = next(rows, None)
    if headings is None:
        raise ImportFileError("the file is empty")
    columns = [mapping.get(fold(str(h or ""))) for h in headings]
    if "commune_code" not in columns:
        raise ImportFileError("no commune column: use the headings of the household export or the template")
    unknown = [str(h) for h, c in zip(headings, columns) if c is None and h not in (None, "")]
    if unknown:
        raise ImportFileError(f"unknown columns: {', '.join(unknown)}")
    found = False
    for number, row in enumerate(rows, start=2):
        if all(v in (None, "") for v in row):
            continue
        found = True
        yield number, {c: v for c, v in zip(columns, row) if c and c not in SERVER_COLUMNS}
    if not found:
        raise ImportFileError("the file has headings but no household under them")


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
            whole_float = isinstance(value, float) and value.is_integer()
            if whole_float or isinstance(value, str) and value.lstrip("-").isdigit() and value.isascii():
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


def _validated(camp: Campaign, user: User, schema, number: int, raw: dict,
               report: ImportReport) -> dict | None:
    """The row as a record ready to store (server fields set), or None with its reasons reported."""
    try:
        record = schema.load(_typed(camp, raw))
    except ValidationError as exc:
        report.errors.append((number, exc.messages))
        return None
    record.setdefault("id", _row_id(record))
    try:
        return _server_fields(camp, user, record)
    except OutsideArea:
        report.errors.append((number, {"commune_code": ["outside your area"]}))
        return None


def _fingerprint(record: dict) -> bytes:
    """Commune and a digest of the content, in one bytes object: what a later row with the
    same id is compared with, where the whole record took a kilobyte or more of the worker
    (and a tuple of the two, twice the memory of this, for each of 50,000 rows)."""
    content = orjson.dumps(content_of(record), option=orjson.OPT_SORT_KEYS)
    return b"%d:" % record["commune_code"] + hashlib.blake2b(content, digest_size=16).digest()


def _store(camp: Campaign, commune: int, batch: list[tuple[int, dict]], report: ImportReport,
           seen: dict[str, bytes]) -> None:
    """One batch of one commune in one write: new ids stored, known ones unchanged or refused."""
    stored = camp.households.stored_among(commune, [record["id"] for _, record in batch if record["id"] not in seen])
    now, fresh = camp.stamp(), []
    for number, record in batch:
        key = record["id"]
        if key in seen:
            same = seen[key] == _fingerprint(record)
        else:
            existing = stored.get(key)  # ids are the province's
            if existing is None:
                seen[key] = _fingerprint(record)
                record["created_at"] = record["updated_at"] = now  # the batch's own copy: no second one
                fresh.append(record)
                continue
            same = existing["commune_code"] == record["commune_code"] and content_of(existing) == content_of(record)
        if same:
            report.unchanged += 1
        else:
            report.errors.append((number, {"id": ["another household is stored under this id"]}))
    added = camp.households.bulk_insert(commune, fresh) if fresh else 0
    report.created += added
    report.unchanged += len(fresh) - added  # stored meanwhile by another writer, same id


def _import_schema(camp: Campaign, lang: str):
    """A schema of its own whose visit window is read once for the whole file: reading the
    settings for every row took a fifth of a large import."""
    schema = camp.schemas.schema(lang, partial=False)  # a new instance: the shared one is left alone
    if schema.window is not None:
        window = schema.window()
        schema.window = lambda: window
    return schema


def import_rows(camp: Campaign, user: User, rows: Iterator[tuple[int, dict]], lang: str = "vi",
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate each row with the form's rules and scope; store the good ones in batches.

    A batch is up to BATCH rows of one commune written at once (one fsync; all of it or none
    of it). Ids already stored count as unchanged, so importing a file twice changes nothing.
    Rows waiting for their commune's batch are kept as JSON bytes (a third of a decoded
    record), WAITING of them at most, so a file spread over many communes does not hold
    thousands of records decoded.
    """
    with CACHE.passing_through():  # the communes it writes are not what readers will ask for next
        return _import(camp, user, rows, lang, progress or (lambda n: None))


def _import(camp: Campaign, user: User, rows: Iterator[tuple[int, dict]], lang: str,
            tick: Callable[[int], None]) -> ImportReport:
    report, seen = ImportReport(), {}
    schema = _import_schema(camp, lang)
    pending: dict[int, list[tuple[int, bytes]]] = {}
    waiting = 0
    for number, raw in rows:
        record = _validated(camp, user, schema, number, raw, report)
        if record is None:
            tick(1)
            continue
        batch = pending.setdefault(record["commune_code"], [])
        batch.append((number, _compact_json(record)))
        waiting += 1
        if len(batch) >= BATCH or waiting > WAITING:
            commune = record["commune_code"] if len(batch) >= BATCH else max(pending, key=lambda c: len(pending[c]))
            stored = _store_waiting(camp, pending, commune, report, seen)
            waiting -= stored
            tick(stored)
    for commune in list(pending):
        tick(_store_waiting(camp, pending, commune, report, seen))
    report.errors.sort(key=lambda e: e[0])
    return report


def _compact_json(record: dict) -> bytes:
    """The record's JSON in a bytes object of its own size: orjson's answer keeps the room it
    grew into (about 4 KB a row here), which 30,000 waiting rows turned into 120 MB."""
    return bytes(memoryview(orjson.dumps(record)))


def _store_waiting(camp: Campaign, pending: dict[int, list[tuple[int, bytes]]], commune: int,
                   report: ImportReport, seen: dict[str, bytes]) -> int:
    """Store the rows waiting for ``commune``, their JSON dropped as they are decoded; how many."""
    waiting = pending.pop(commune)
    batch = [(number, orjson.loads(record)) for number, record in waiting]
    waiting.clear()
    _store(camp, commune, batch, report, seen)
    return len(batch)


def template_xlsx(camp: Campaign, user: User, lang: str = "vi") -> bytes:
    """An empty import sheet: export headings, drop-down lists for communes and whole-number checks."""
    wb = Workbook()
    ws = wb.active
    ws.title = translate("sheet_households", lang)
    columns = household_columns(camp.form)
    ws.append(household_headings(camp.form, lang))
    lists = wb.create_sheet(translate("sheet_lists", lang))
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
        dv.error = translate("invalid_value", lang)
        # several reasons go in one cell ("declined;not_home"): the list only suggests
        dv.showErrorMessage = not (spec and spec["type"] == "choices")
        ws.add_data_validation(dv)
        dv.add(target)
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
