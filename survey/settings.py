"""Campaign settings the Department sets in the app: start, deadlines, coverage target.

Stored in ``<data>/settings.json`` so every worker and the CLI see the same values; the
defaults are the directive's: agencies report by 20/8/2020, the province by 25/8/2020,
and the Ministry's aim of half the smartphone users.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

from .i18n import translate
from .storage import Collection

__all__ = ["CampaignSettings", "SettingsSchema", "SettingsStore", "DEFAULTS"]


@dataclass(frozen=True)
class CampaignSettings:
    """The values reports and the dashboard are judged against."""

    start: dt.date
    agency_deadline: dt.date
    province_deadline: dt.date
    target_pct: int
    stale_days: int
    updated_at: str | None = None
    updated_by: str | None = None

    def as_dict(self) -> dict:
        """JSON shape: dates as ISO strings."""
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self).items()}


DEFAULTS = CampaignSettings(start=dt.date(2020, 8, 12), agency_deadline=dt.date(2020, 8, 20),
                            province_deadline=dt.date(2020, 8, 25), target_pct=50, stale_days=3)


class SettingsSchema(Schema):
    """What the settings form may send, messages in the page's language; dates in campaign order."""

    class Meta:
        unknown = RAISE

    start = fields.Date(required=True)
    agency_deadline = fields.Date(required=True)
    province_deadline = fields.Date(required=True)
    target_pct = fields.Integer(required=True, strict=False)
    stale_days = fields.Integer(required=True, strict=False)

    BOUNDS = {"target_pct": (1, 100), "stale_days": (1, 60)}

    def __init__(self, lang: str = "vi", **kwargs: Any):
        super().__init__(**kwargs)
        self.lang = lang
        for name, field in self.fields.items():
            kind = "not_integer" if name in self.BOUNDS else "not_date"
            field.error_messages = {**field.error_messages, "required": translate("required", lang),
                                    "null": translate("null", lang), "invalid": translate(kind, lang)}

    @validates_schema
    def _check(self, data: dict, **kwargs: Any) -> None:
        errors = {}
        for name, (low, high) in self.BOUNDS.items():
            if name in data and not low <= data[name] <= high:
                errors[name] = [translate("range", self.lang, min=low, max=high)]
        start, agency, province = (data.get(k) for k in ("start", "agency_deadline", "province_deadline"))
        if start and agency and agency < start:
            errors["agency_deadline"] = [translate("deadline_before_start", self.lang)]
        if agency and province and province < agency:
            errors["province_deadline"] = [translate("province_before_agency", self.lang)]
        if errors:
            raise ValidationError(errors)


class SettingsStore:
    """The one settings document of a data directory."""

    def __init__(self, data_dir: Path):
        self.collection = Collection(Path(data_dir) / "settings.json", "settings")

    @staticmethod
    def schema(lang: str = "vi") -> SettingsSchema:
        """The schema the settings form is validated with, messages in ``lang``."""
        return SettingsSchema(lang)

    def get(self) -> CampaignSettings:
        """The stored settings, defaults where none were set."""
        doc = self.collection.get("campaign") or {}
        values = asdict(DEFAULTS)
        for key, default in values.items():
            if key in doc:
                values[key] = dt.date.fromisoformat(doc[key]) if isinstance(default, dt.date) else doc[key]
        return CampaignSettings(**values)

    def save(self, values: dict, user: str, stamp: str) -> CampaignSettings:
        """Store settings loaded by ``SettingsSchema``."""
        doc = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}
        self.collection.put("campaign", {**doc, "updated_at": stamp, "updated_by": user})
        return self.get()
