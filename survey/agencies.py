"""The registry of reporting agencies: the shipped list in ``forms/agencies.json``, plus the
Department's changes (new agencies, renames, retirements) kept in ``<data>/agencies.json``.

Agencies are the provincial departments and boards, the Front and mass organisations (the
provincial Youth Union among them) and the district People's Committees: every body the
directive asks to report its own staff's installations to the Department.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .gazetteer import Gazetteer
from .storage import Collection
from .text import bad_characters, clean

__all__ = ["AgencyRegistry", "AgencySchema", "agencies_in_scope"]

CODE = r"^[A-Z0-9][A-Z0-9-]{1,19}$"


class AgencyRegistry:
    """Agencies by code, in the shipped order, with the Department's edits applied."""

    def __init__(self, defaults_path: str | Path, data_dir: Path, gazetteer: Gazetteer):
        raw = orjson.loads(Path(defaults_path).read_bytes())
        self.groups: dict[str, dict[str, str]] = {g["value"]: g["label"] for g in raw["groups"]}
        self.defaults = {a["code"]: {"district": None, **a, "active": True} for a in raw["agencies"]}
        self.changes = Collection(Path(data_dir) / "agencies.json", "agencies")
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
    """An agency as the Department edits it: code, Vietnamese name, group, district, active."""

    class Meta:
        unknown = RAISE

    code = fields.String(required=True, validate=validate.Regexp(CODE))
    name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    group = fields.String(required=True)
    district = fields.Integer(load_default=None, allow_none=True, strict=True)
    active = fields.Boolean(load_default=True)

    def __init__(self, registry: AgencyRegistry, **kwargs: Any):
        super().__init__(**kwargs)
        self.registry = registry

    @validates_schema
    def _check(self, data: dict, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        if "name" in data and bad_characters(data["name"]):
            errors["name"] = ["control or invisible characters"]
        if data.get("group") not in self.registry.groups:
            errors["group"] = [f"one of {', '.join(self.registry.groups)}"]
        district = data.get("district")
        if district is not None and district not in self.registry.gazetteer.districts:
            errors["district"] = ["not a district of the province"]
        if errors:
            raise ValidationError(errors)

    def load(self, data: Any, **kwargs: Any) -> dict:  # type: ignore[override]
        """Clean data: the name stored as NFC, trimmed."""
        out = super().load(data, **kwargs)
        out["name"] = clean(out["name"])
        return out


def agencies_in_scope(role: str, unit: int | str, registry: AgencyRegistry) -> list[str]:
    """Agencies a user may see: the Department all, a district its People's Committee, an agency itself."""
    if role == "department":
        return registry.codes()
    if role == "district":
        return registry.of_district(int(unit))
    if role == "agency":
        return [unit] if unit in registry.all() else []
    return []
