"""Filters on the household list beyond the area: hamlet, officer, visit date, review state, search.

The API and the office's list page read the same query string through this schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..households.listing import REVIEW_STATES, ListQuery
from ..policy import may
from ..problems import BadInput
from ..text import clean
from ..users import User

__all__ = ["FILTER_NAMES", "FilterError", "list_query"]

FILTER_NAMES = ("hamlet", "officer", "visited_on", "review", "q")


class FilterError(BadInput):
    """A filter in the query string is malformed; the message names it."""


def _text(name: str, longest: int) -> fields.String:
    too_long = f"{name} is at most {longest} characters"
    return fields.String(validate=validate.Length(max=longest, error=too_long))


class ListFilters(Schema):
    """?officer=me (or a username, for reviewers), ?visited_on=YYYY-MM-DD, ?hamlet=, ?review=, ?q=."""

    class Meta:
        unknown = EXCLUDE  # area and paging arguments are read elsewhere

    hamlet = _text("hamlet", 100)
    officer = _text("officer", 64)
    visited_on = fields.Date(error_messages={"invalid": "visited_on must be a date as YYYY-MM-DD"})
    review = fields.String(validate=validate.OneOf(
        REVIEW_STATES, error=f"review must be one of {', '.join(REVIEW_STATES)}"))
    q = _text("q", 100)


def _officer(value: str, user: User) -> str:
    """``me`` is the caller; an officer account may name only itself."""
    if value in ("me", user.username):
        return user.username
    if not may(user, "list_households"):
        raise FilterError("officer must be 'me': an officer lists only its own records by name")
    return value


def list_query(args: Mapping[str, str], user: User, communes: list[int]) -> ListQuery:
    """The query's filters over ``communes`` (already scoped); empty values mean no filter."""
    given = {k: args[k] for k in FILTER_NAMES if args.get(k, "") != ""}
    try:
        chosen: dict[str, Any] = ListFilters().load(given)
    except ValidationError as exc:
        raise FilterError("; ".join(m for msgs in exc.messages.values() for m in msgs)) from None
    for name in ("hamlet", "officer", "q"):
        if name in chosen:
            chosen[name] = clean(chosen[name])
    if chosen.get("officer"):
        chosen["officer"] = _officer(chosen["officer"], user)
    return ListQuery(communes=tuple(communes), **chosen)
