"""Strict JSON request bodies: one object, no duplicate keys, no NaN or Infinity."""

from __future__ import annotations

import json
from typing import Any

from flask import request

from ..problems import BadInput

__all__ = ["BadBody", "json_object", "parse_json_object"]


class BadBody(BadInput):
    """The body is not a JSON object this API accepts; the message says why."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    made = dict(pairs)  # in C; a key given twice leaves fewer entries than pairs
    if len(made) == len(pairs):
        return made
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise BadBody(f"duplicate key {key!r} in the JSON object")
        seen.add(key)
    return made  # not reached: a shorter dict means a repeated key


def _no_constants(name: str) -> None:
    raise BadBody(f"{name} is not a number in JSON")


# One decoder for every body: json.loads with hooks builds a decoder and its scanner per call.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)


def json_object() -> dict:
    """The request body as a dict, or BadBody naming what is wrong with it."""
    if not request.mimetype == "application/json":
        raise BadBody("send the body as application/json")
    return parse_json_object(request.get_data(cache=True))


def parse_json_object(raw: bytes) -> dict:
    """``raw`` as a dict, or BadBody naming what is wrong with it (UTF-8, JSON, one object)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        if text.startswith("\ufeff"):  # json.loads' own check, which the decoder lacks
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        data = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise BadBody(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:  # the parser recurses once per level of [ or {
        raise BadBody("invalid JSON: arrays or objects are nested too deeply") from None
    except ValueError:  # an integer of thousands of digits: Python refuses to convert it
        raise BadBody("invalid JSON: a number has too many digits") from None
    if not isinstance(data, dict):
        raise BadBody("the body must be a JSON object")
    return data
