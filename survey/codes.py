"""Unit codes as people and scripts type them: ASCII digits only, never guessed at.

``int()`` takes "١٤٨", "148\\n" and " 148"; ``int(float())`` turns "4831.9" into commune
4831 and fails on "inf". A code that is not plain digits is refused with the reason, so it
can neither pick the wrong unit nor reach a header or a file name.
"""

from __future__ import annotations

import re

__all__ = ["CodeError", "is_code", "parse_code"]

_CODE = re.compile(r"[0-9]{1,9}")


class CodeError(ValueError):
    """A value that should be a unit code is not one; the message names the field and value."""


def is_code(value: object) -> bool:
    """Whether ``value`` is a string of 1-9 ASCII digits."""
    return isinstance(value, str) and _CODE.fullmatch(value) is not None


def parse_code(value: str, name: str) -> int:
    """The code ``value`` as an int, or CodeError naming ``name`` and the value."""
    if not is_code(value):
        raise CodeError(f"{name} must be a unit code of digits 0-9, not {value!r}")
    return int(value)
