"""Filters on the household list beyond the area: whose records, and which visit date."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..problems import BadInput

__all__ = ["FilterError", "record_filter"]


class FilterError(BadInput):
    """A filter in the query string is malformed; the message names it."""


class ListFilters(Schema):
    """?officer=me keeps the caller's own records; ?visited_on=YYYY-MM-DD one visit date."""

    class Meta:
        unknown = EXCLUDE  # area and paging arguments are read elsewhere

    officer = fields.String(validate=validate.OneOf(["me"], error="officer must be 'me'"))
    visited_on = fields.Date(error_messages={"invalid": "visited_on must be a date as YYYY-MM-DD"})


def record_filter(args: Mapping[str, str], username: str) -> Callable[[dict], bool] | None:
    """A predicate over stored records for the query's filters; None when there are none."""
    try:
        chosen: dict[str, Any] = ListFilters().load({k: args[k] for k in ("officer", "visited_on") if k in args})
    except ValidationError as exc:
        raise FilterError("; ".join(m for msgs in exc.messages.values() for m in msgs)) from None
    wanted: dict[str, str] = {}
    if "officer" in chosen:
        wanted["officer"] = username
    if "visited_on" in chosen:
        wanted["visited_on"] = chosen["visited_on"].isoformat()
    if not wanted:
        return None
    return lambda record: all(record.get(k) == v for k, v in wanted.items())
