"""The checks of a form definition in words, once, for the server's schemas and the phone.

The marshmallow schemas (``survey.forms``) and the form page's script (``static/js/checks.js``)
both take their messages from ``field_messages`` and their checks from the definition, so the
phone refuses a household with the very text the API would give, beside the same field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from .i18n import template, translate
from .text import REJECTED_CATEGORIES

__all__ = ["Messages", "CHECK_KINDS", "check_kinds", "field_messages", "client_rules", "Window"]

Window = Callable[[], "tuple[dt.date, dt.date]"]

# Every kind of check a definition may state; the phone's interpreter must know each one.
FIELD_KINDS = ("required", "min", "max", "min_length", "max_length", "pattern", "not_future",
               "window", "choices")
TYPE_KINDS = ("type:uuid", "type:commune", "type:agency", "type:text", "type:integer",
              "type:choices", "type:date")
CHECK_KINDS = FIELD_KINDS + TYPE_KINDS + ("bad_chars", "rule:sum_at_most")


class Messages:
    """Error texts in one language, shaped as marshmallow expects them."""

    def __init__(self, lang: str):
        self.lang = lang

    def __call__(self, key: str, **params: object) -> str:
        return translate(key, self.lang, **params)

    def base(self) -> dict[str, str]:
        return {"required": self("required"), "null": self("null"),
                "validator_failed": self("invalid")}


def _day(value: dt.date) -> str:
    return f"{value:%d/%m/%Y}"


def check_kinds(form) -> set[str]:
    """The kinds of check a definition states (what the phone must be able to check)."""
    kinds: set[str] = set()
    for spec in form.fields:
        kinds.add(f"type:{spec['type']}")
        kinds.update(k for k in FIELD_KINDS if spec.get(k) not in (None, False, 0, "")
                     or (k in ("min", "max") and k in spec))
        if spec["type"] in ("text", "agency"):
            kinds.add("bad_chars")
    for rule in form.rules:
        kinds.add("rule:sum_at_most" if {"sum", "at_most"} <= set(rule) else f"rule:{sorted(rule)}")
    return kinds


def field_messages(spec: dict, msg: Messages, window: Window | None = None,
                   province: str = "") -> dict[str, str]:
    """Each message one field can give, by the check that gives it (templates keep {chars}, {input})."""
    kind = spec["type"]
    out = {"required": msg("required"), "null": msg("null")}
    if kind in ("integer", "commune"):
        out["invalid"] = msg("not_integer")
        if kind == "integer":
            out["range"] = msg("range", min=spec["min"], max=spec["max"])
        else:
            out["not_commune"] = msg("not_commune", province=province)
    elif kind in ("text", "agency"):
        out["invalid"] = msg("not_text")
        out["bad_chars"] = template("bad_chars", msg.lang)
        if kind == "text":
            low, high = spec.get("min_length", 0), spec["max_length"]
            out["blank"] = msg("blank")
            out["max_length"] = msg("length", min=low, max=high) if low else msg("too_long", max=high)
            if spec.get("pattern"):
                out["pattern"] = spec["pattern_message"][msg.lang]
        else:
            out["not_agency"] = msg("not_agency")
    elif kind == "uuid":
        out["invalid"] = msg("not_uuid")
    elif kind == "date":
        out["invalid"] = msg("not_date")
        out["future"] = msg("future")
        if spec.get("window") and window is not None:
            first, last = window()
            out["window"] = msg("outside_window", first=_day(first), last=_day(last))
    elif kind == "choices":
        out["invalid"] = msg("not_list")
        out["choice"] = template("choice", msg.lang)
    return out


def client_rules(form, lang: str, window: Window | None, province: str) -> dict:
    """What the form page's script checks before a household enters the outbox, as JSON."""
    msg = Messages(lang)
    first_last = window() if window is not None else None
    fields = []
    for spec in form.fields:
        item = {k: spec[k] for k in ("name", "type", "required", "min", "max", "min_length",
                                     "max_length", "pattern", "not_future", "multiline", "default")
                if k in spec}
        if spec["type"] == "choices":
            item["choices"] = [c["value"] for c in spec["choices"]]
        if spec.get("window") and first_last:
            item["window"] = [d.isoformat() for d in first_last]
        item["messages"] = field_messages(spec, msg, window, province)
        fields.append(item)
    rules = [{"field": r["field"], "sum": r["sum"], "at_most": r["at_most"], "message": r["message"][lang]}
             for r in form.rules]
    return {"fields": fields, "rules": rules, "bad_categories": sorted(REJECTED_CATEGORIES),
            "kinds": sorted(check_kinds(form))}
