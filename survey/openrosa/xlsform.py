"""The household form as an XLSForm (rows built from the form definition) and its XForm.

The XLSForm is the single translation of ``forms/household.json`` into the field's
language; pyxform turns that same workbook into the XForm that Collect downloads, so the
spreadsheet offered to teams and the XForm served can never drift apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl import Workbook

from ..forms import FormDefinition
from ..gazetteer import Gazetteer
from ..i18n import gettext

__all__ = ["LANGS", "PublishedForm", "publish", "xlsform_rows"]

# XLSForm language names: "Name (code)" is what Collect and Enketo show in their language menu.
LANGS = {"vi": "Tiếng Việt (vi)", "en": "English (en)"}
COMMUNES = "communes"


@dataclass(frozen=True)
class PublishedForm:
    """One published version of the form for one set of communes: exact bytes and their hash."""

    form_id: str
    version: str
    title: str
    xform: bytes
    xlsx: bytes

    @property
    def md5(self) -> str:
        """``md5:<hex>`` of the exact XForm bytes served, as formList announces it."""
        return "md5:" + hashlib.md5(self.xform).hexdigest()


def _both(key: str, column: str, **params: object) -> dict[str, str]:
    return {f"{column}::{LANGS[lang]}": gettext(key, lang, **params) for lang in LANGS}


def _labels(texts: dict[str, str], column: str = "label") -> dict[str, str]:
    return {f"{column}::{LANGS[lang]}": texts[lang] for lang in LANGS}


def _rule_terms(rule: dict, here: str) -> str:
    def ref(name: str) -> str:
        return "." if name == here else "${" + name + "}"
    return f"({' + '.join(ref(n) for n in rule['sum'])}) <= ({' + '.join(ref(n) for n in rule['at_most'])})"


def _constraint(form: FormDefinition, spec: dict,
                window: tuple[dt.date, dt.date] | None) -> tuple[list[str], dict[str, list[str]]]:
    """XPath constraints of one question and their messages, as the schema words them."""
    kind, name = spec["type"], spec["name"]
    checks: list[str] = []
    messages: dict[str, list[str]] = {lang: [] for lang in LANGS}

    def add(check: str, texts: dict[str, str]) -> None:
        checks.append(check)
        for lang in LANGS:
            messages[lang].append(texts[lang])
    if kind == "integer":
        add(f". >= {spec['min']} and . <= {spec['max']}",
            {lang: gettext("range", lang, min=spec["min"], max=spec["max"]) for lang in LANGS})
    elif kind == "text":
        low, high = spec.get("min_length", 0), spec["max_length"]
        key = "length" if low else "too_long"
        check = (f"string-length(.) >= {low} and string-length(.) <= {high}" if low
                 else f"string-length(.) <= {high}")
        add(check, {lang: gettext(key, lang, min=low, max=high) for lang in LANGS})
    elif kind == "date" and spec.get("not_future"):
        add(". <= today()", {lang: gettext("future", lang) for lang in LANGS})
    if kind == "date" and spec.get("window") and window is not None:
        first, last = window
        add(f". >= date('{first.isoformat()}') and . <= date('{last.isoformat()}')",
            {lang: gettext("outside_window", lang, first=f"{first:%d/%m/%Y}", last=f"{last:%d/%m/%Y}")
             for lang in LANGS})
    for rule in form.rules:
        if rule["field"] == name:
            add(_rule_terms(rule, name), rule["message"])
    return checks, messages


def _question(form: FormDefinition, spec: dict, communes: list[int],
              window: tuple[dt.date, dt.date] | None) -> dict[str, str] | None:
    """One survey-sheet row, or None for the record id (the XForm's meta/instanceID)."""
    kind = spec["type"]
    types = {"commune": f"select_one {COMMUNES}", "text": "text", "integer": "integer",
             "date": "date", "choices": f"select_multiple {spec['name']}"}
    if kind not in types:
        return None
    row = {"type": types[kind], "name": spec["name"], **_labels(spec["label"])}
    if spec.get("hint"):
        row.update(_labels(spec["hint"], "hint"))
    if spec.get("required"):
        row.update(required="yes", **_both("required", "required_message"))
    checks, messages = _constraint(form, spec, window)
    if checks:
        row["constraint"] = " and ".join(f"({c})" for c in checks)
        row.update({f"constraint_message::{LANGS[lang]}": " ".join(messages[lang]) for lang in LANGS})
    if spec.get("multiline"):
        row["appearance"] = "multiline"
    if kind == "date" and spec.get("default") == "today":
        row["default"] = "today()"
    if kind == "commune" and len(communes) == 1:
        row["default"] = str(communes[0])
    return row


def xlsform_rows(form: FormDefinition, gazetteer: Gazetteer, communes: Iterable[int],
                 window: tuple[dt.date, dt.date] | None = None) -> dict[str, list[dict[str, str]]]:
    """The survey, choices and settings sheets of the XLSForm, communes limited to ``communes``
    and visit dates to the campaign's ``window`` (first and last day)."""
    codes = sorted(communes)
    survey = [row for spec in form.fields if (row := _question(form, spec, codes, window))]
    choices = [{"list_name": COMMUNES, "name": str(code),
                **_labels({lang: gazetteer.communes[code].name for lang in LANGS})} for code in codes]
    for spec in form.fields:
        for choice in spec.get("choices", []):
            choices.append({"list_name": spec["name"], "name": choice["value"], **_labels(choice["label"])})
    digest = hashlib.sha256(repr((survey, choices, form.title)).encode()).hexdigest()[:10]
    settings = [{"form_title": form.title["vi"], "form_id": form.name,
                 "version": f"{form.version}.{digest}", "default_language": LANGS["vi"]}]
    return {"survey": survey, "choices": choices, "settings": settings}


def _workbook(sheets: dict[str, list[dict[str, str]]]) -> bytes:
    """The sheets as an .xlsx file, one heading row of the columns each sheet uses."""
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        columns = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def publish(form: FormDefinition, gazetteer: Gazetteer, communes: Iterable[int],
            window: tuple[dt.date, dt.date] | None = None) -> PublishedForm:
    """Build the XLSForm for ``communes`` and convert it with pyxform into the XForm served."""
    from pyxform.xls2xform import convert  # 0.9 s to import: paid by the first Collect request only

    sheets = xlsform_rows(form, gazetteer, communes, window)
    xlsx = _workbook(sheets)
    result = convert(xlsform=xlsx, file_type=".xlsx", form_name="data")
    settings = sheets["settings"][0]
    return PublishedForm(form.name, settings["version"], form.title["vi"],
                         result.xform.encode("utf-8"), xlsx)
