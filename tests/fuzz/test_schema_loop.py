"""The form schemas' own load and field loop give what marshmallow's give: the same data, the
same errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError

from survey.forms import SchemaFactory, load_form
from survey.gazetteer import load_gazetteer

from .test_properties import SETTINGS, raw_records

STRANGERS = st.dictionaries(st.sampled_from(["colour", "Members", "id ", "officer", "district_code"]),
                            st.integers(), max_size=2)


def _outcome(schema: Schema, record: dict) -> tuple[str, object]:
    """What a load gives: the data, or the messages and what was valid."""
    try:
        return "stored", schema.load(dict(record))
    except ValidationError as exc:
        return "refused", (exc.messages, exc.valid_data)


@pytest.fixture(scope="module")
def both():
    """Each language's schema, and the same schema running marshmallow's own loop."""
    factory = SchemaFactory(load_form("forms/household.json"), load_gazetteer(17), lambda: dt.date(2020, 8, 18),
                            window=lambda: (dt.date(2020, 8, 10), dt.date(2020, 8, 25)))
    pairs = []
    for lang in ("vi", "en"):
        schema = factory.schema(lang)
        plain = type("Plain", (type(schema),), {"_deserialize": Schema._deserialize, "load": Schema.load})()
        pairs.append((schema, plain))
    return pairs


@settings(SETTINGS, max_examples=300)
@given(record=raw_records, extra=STRANGERS)
def test_the_form_loop_loads_as_marshmallow_does(both, record, extra):
    """Valid and broken records, with and without unknown keys: data and messages alike."""
    for schema, plain in both:
        assert _outcome(schema, {**record, **extra}) == _outcome(plain, {**record, **extra})


def test_the_comparison_can_tell_a_difference(both):
    """The two loops are really different code: a loop that drops a field is caught."""
    schema, plain = both[0]
    record = {"commune_code": 4789, "hamlet": "Xóm Mới", "head_name": "An", "members": 2,
              "smartphone_users": 1, "installed_before": 0, "installed_during_visit": 1}
    assert _outcome(schema, record) == _outcome(plain, record)
    assert schema._deserialize.__func__ is not plain._deserialize.__func__
    assert schema.load.__func__ is not plain.load.__func__
    assert _outcome(schema, {**record, "colour": 1})[1][0] == {"colour": [schema.error_messages["unknown"]]}


def test_other_calls_go_to_marshmallow(both):
    """Partial loads and lists of records are marshmallow's own: the loop only takes one dict."""
    schema, _ = both[1]
    assert schema.load({"members": 3}, partial=True) == {"members": 3}  # no defaults either
    assert len(schema.load([{"members": 3}], many=True, partial=True)) == 1
