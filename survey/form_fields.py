"""The marshmallow fields a form definition's questions become: strict types, clean text.

Each field refuses what JSON would otherwise let through loosely (a count given as "3" or
3.0, a date as a number) and runs its validators as marshmallow does, all of them, their
messages together.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from functools import cached_property
from typing import Any

from marshmallow import ValidationError, fields, validate

from .text import BadText, human_text

__all__ = ["Count", "Text", "UUIDText", "StrictDate", "Choice", "Choices"]


class _Checks:
    """Field validators run as marshmallow runs them (each one, errors together), with the
    combining ``And`` built once per field instead of once per value."""

    validators: list

    def _validate(self, value: Any) -> None:
        if self.validators:
            self._validators_together(value)

    @cached_property
    def _validators_together(self) -> validate.And:
        return validate.And(*self.validators)


class Count(_Checks, fields.Integer):
    """A whole number given as a JSON integer: no strings, floats or booleans."""

    def _validated(self, value: Any) -> int:
        if type(value) is int:  # what JSON gives, answered before the slower checks of the ABC
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise self.make_error("invalid")
        return int(value)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        return self._validated(value)


class Text(_Checks, fields.String):
    """Text stored as NFC, trimmed; control, bidi and invisible characters refused."""

    def __init__(self, *, multiline: bool = False, bad_chars_message: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.multiline = multiline
        self.bad_chars_message = bad_chars_message

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return human_text(text, multiline=self.multiline)
        except BadText as exc:
            raise ValidationError(self.bad_chars_message.format(chars=exc.chars)) from None


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class UUIDText(_Checks, fields.UUID):
    """A UUID, kept as its canonical lower-case string."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if type(value) is str and _CANONICAL_UUID.fullmatch(value):  # as a phone sends it: already the answer
            return value
        return str(super()._deserialize(value, attr, data, **kwargs))


class StrictDate(_Checks, fields.Date):
    """An ISO date given as a string (YYYY-MM-DD)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> dt.date:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Choice(_Checks, fields.String):
    """One value of a choices question."""


class Choices(_Checks, fields.List):
    """The values picked for a choices question."""
