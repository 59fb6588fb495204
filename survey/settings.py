"""Campaign settings the Department sets in the app: the visit window, deadlines, coverage target.

Stored in the collection ``settings`` so every worker, host and the CLI see the same values; the
defaults are the directive's: visits from 10/8/2020 to 25/8/2020, agencies report by
20/8/2020, the province by 25/8/2020, and the Ministry's aim of half the smartphone users.
Every date lies in 2020-2099 and within a year of the start, so no setting can stretch the
dashboard over centuries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from dataclasses import fields as dataclass_fields
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema

from .i18n import translate
from .storage import DocumentSpace

__all__ = ["CampaignSettings", "SettingsSchema", "SettingsStore", "DEFAULTS"]


@dataclass(frozen=True)
class CampaignSettings:
    """The values reports and the dashboard are judged against."""

    start: dt.date
    end: dt.date
    agency_deadline: dt.date
    province_deadline: dt.date
    target_pct: int
    stale_days: int
    updated_at: str | None = None
    updated_by: str | None = None

    @property
    def window(self) -> tuple[dt.date, dt.date]:
        """The first and last day a household may be visited."""
        return self.start, self.end

    def as_dict(self) -> dict:
        """JSON shape: dates as ISO strings."""
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self).items()}


DEFAULTS = CampaignSettings(start=dt.date(2020, 8, 10), end=dt.date(2020, 8, 25),
                            agency_deadline=dt.date(2020, 8, 20), province_deadline=dt.date(2020, 8, 25),
                            target_pct=50, stale_days=3)
EARLIEST, LATEST = dt.date(2020, 1, 1), dt.date(2099, 12, 31)  # Bluezone exists from 2020
LONGEST = dt.timedelta(days=366)  # every date within a year of the start
DATES = ("start", "end", "agency_deadline", "province_deadline")
_FIELDS = tuple(f.name for f in dataclass_fields(CampaignSettings))


class SettingsSchema(Schema):
    """What the settings form may send, messages in the page's language; dates in campaign order."""

    class Meta:
        unknown = RAISE

    start = fields.Date(required=True)
    end = fields.Date(required=True)
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
        errors.update(self._date_bounds(data))
        start, agency, province = (data.get(k) for k in ("start", "agency_deadline", "province_deadline"))
        if start and data.get("end") and data["end"] < start:
            errors.setdefault("end", [translate("end_before_start", self.lang)])
        if start and agency and agency < start and "agency_deadline" not in errors:
            errors["agency_deadline"] = [translate("deadline_before_start", self.lang)]
        if agency and province and province < agency and "province_deadline" not in errors:
            errors["province_deadline"] = [translate("province_before_agency", self.lang)]
        if errors:
            raise ValidationError(errors)

    def _date_bounds(self, data: dict) -> dict[str, list[str]]:
        """Every date in 2020-2099, and none more than a year after the start (order: ``_check``)."""
        errors = {}
        start = data.get("start")
        for name in DATES:
            if name not in data:
                continue
            high = LATEST if name == "start" or not start else min(LATEST, start + LONGEST)
            if not EARLIEST <= data[name] <= high:
                errors[name] = [translate("range", self.lang, min=f"{EARLIEST:%d/%m/%Y}", max=f"{high:%d/%m/%Y}")]
        return errors


class SettingsStore:
    """The one settings document of a campaign."""

    def __init__(self, space: DocumentSpace):
        self.collection = space.collection("settings", "settings")
        space.read_along("settings")  # every submission checks its dates against them
        self._last: tuple[dict | None, CampaignSettings] | None = None

    @staticmethod
    def schema(lang: str = "vi") -> SettingsSchema:
        """The schema the settings form is validated with, messages in ``lang``."""
        return SettingsSchema(lang)

    def get(self) -> CampaignSettings:
        """The stored settings, defaults where none were set; every submission checks its
        dates against them, so they are rebuilt only when the stored document differs from
        the one they were built from (compared by value: a fresh read on PostgreSQL, or no
        document at all, is then no reason to rebuild)."""
        doc = self.collection.documents().get("campaign")
        last = self._last
        if last is not None and (last[0] is doc or last[0] == doc):
            return last[1]
        settings = self._build(doc or {})
        self._last = (doc, settings)
        return settings

    @staticmethod
    def _build(doc: dict) -> CampaignSettings:
        values = {key: dt.date.fromisoformat(doc[key]) if isinstance(getattr(DEFAULTS, key), dt.date) else doc[key]
                  for key in _FIELDS if key in doc}
        return replace(DEFAULTS, **values)

    def save(self, values: dict, user: str, stamp: str) -> CampaignSettings:
        """Store settings loaded by ``SettingsSchema``."""
        doc = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}
        self.collection.put("campaign", {**doc, "updated_at": stamp, "updated_by": user})
        return self.get()
