"""The registry of reporting agencies: the shipped list in ``forms/agencies.json``, plus the
Department's changes (new agencies, renames, retirements) kept in the collection ``agencies``.

Agencies are the provincial departments and boards, the Front and mass organisations (the
provincial Youth Union among them) and the district People's Committees: every body the
directive asks to report its own staff's installations to the Department.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

from ..form_fields import Text
from ..gazetteer import Gazetteer
from ..i18n import template, translate
from ..storage import DocumentSpace

__all__ = ["AgencyRegistry", "AgencySchema"]

CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"


class AgencyRegistry:
    """Agencies by code, in the shipped order, with the Department's edits applied."""

    def __init__(self, defaults_path: str | Path, space: DocumentSpace, gazetteer: Gazetteer):
        raw = orjson.loads(Path(defaults_path).read_bytes())
        self.groups: dict[str, dict[str, str]] = {g["value"]: g["label"] for g in raw["groups"]}
        self.defaults = {a["code"]: {"district": None, **a, "active": True} for a in raw["agencies"]}
        self.changes = space.collection("agencies", "agencies")
        self.gazetteer = gazetteer

    def all(self) -> dict[str, dict]:
        """Every agency, retired ones included (their old reports still need a name)."""
        merged = {code: dict(doc) for code, doc in self.defaults.items()}
        for code, doc in self.changes.documents().items():
            merged[code] = {**merged.get(code, {}), **doc}
        return merged

    def active(self) -> dict[str, dict]:
        """The agencies expected to report now."""
        return {code: a for code, a in self.all().items() if a["active"]}

    def codes(self) -> list[str]:
        """Codes of the active agencies: what a report may name."""
        return list(self.active())

    def of_district(self, district_code: int) -> list[str]:
        """The active agencies of one district (its People's Committee)."""
        return [code for code, a in self.active().items() if a.get("district") == district_code]

    def save(self, agency: dict) -> dict:
        """Add or change one agency (validated by ``AgencySchema``)."""
        self.changes.put(agency["code"], agency)
        return self.all()[agency["code"]]


class AgencySchema(Schema):
    """An agency as the Department edits it: code, Vietnamese name, group, district, active.

    Messages come in the page's language; the name is stored as NFC, trimmed.
    """

    class Meta:
        unknown = RAISE

    code = fields.String(required=True)
    name = Text(required=True)
    group = fields.String(required=True)
    district = fields.Integer(load_default=None, allow_none=True, strict=True)
    active = fields.Boolean(load_default=True)

    def __init__(self, registry: AgencyRegistry, lang: str = "vi", **kwargs: Any):
        super().__init__(**kwargs)
        self.registry, self.lang = registry, lang
        for field in self.fields.values():
            field.error_messages = {**field.error_messages, "required": self._msg("required"),
                                    "invalid": self._msg("invalid"), "null": self._msg("null")}
        self.fields["name"].bad_chars_message = template("bad_chars", self.lang)  # Text fills {chars}

    def _msg(self, key: str, **params: object) -> str:
        return translate(key, self.lang, **params)

    @validates_schema
    def _check(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if "code" in data and not re.match(CODE, data["code"]):
            errors["code"] = [self._msg("agency_code_format")]
        if "name" in data and not 1 <= len(data["name"]) <= 150:
            errors["name"] = [self._msg("length", min=1, max=150)]
        if "group" in data and data["group"] not in self.registry.groups:
            errors["group"] = [self._msg("invalid")]
        district = data.get("district")
        if district is not None and district not in self.registry.gazetteer.districts:
            errors["district"] = [self._msg("not_district")]
        if errors:
            raise ValidationError(errors)

