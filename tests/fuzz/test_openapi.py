"""schemathesis against /api/openapi.json with a valid token: no 5xx, answers as the spec says.

The schema comes from a module-scoped fixture, so nothing is built when the module is
imported: the app runs over a temporary data directory made for this module, and each API
operation is fuzzed by hypothesis from that operation's strategy.
"""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from survey import create_app
from tests.conftest import PASSWORD


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory):
    """An app of its own, with one Department account, for the whole module."""
    app = create_app({"SURVEY_DATA_DIR": str(tmp_path_factory.mktemp("fuzz")), "SECRET_KEY": "test",
                      "TESTING": True})
    app.extensions["survey"].users.add("department", PASSWORD, "department", None)
    # The fuzzed service runs during its campaign: the window of visits ends today, so a household
    # without a visit date (today by default) can be stored.
    today = app.extensions["survey"].today()
    app.extensions["survey"].settings.save({"start": today - dt.timedelta(days=30), "end": today,
                                            "agency_deadline": today, "province_deadline": today,
                                            "target_pct": 50, "stale_days": 3}, "department", "fuzz")
    return app


@pytest.fixture(scope="module")
def api_schema(fuzzed_app):
    token = fuzzed_app.extensions["survey"].users.new_token("department")
    loaded = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed_app)
    # The WSGI transport hands back the body as sent: ask for it uncompressed (an HTTP client
    # decodes brotli or gzip itself; tests/test_transfer.py checks the compression).
    loaded.config.update(headers={"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"})
    # Unknown query parameters are ignored, as HTTP APIs do; everything else off-spec must be refused.
    loaded.config.generation.update(allow_extra_parameters=False)
    return loaded


# Business rules JSON Schema cannot state (cross-field sums, no future date, no invisible
# characters, the PUT id matching the URL) make some schema-valid bodies a documented 422,
# so "valid data must be accepted" does not apply; every other check does.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


def test_api_conforms_to_its_spec(api_schema):
    """Every generated request, valid or not, gets a documented, well-formed, non-5xx answer."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10  # the spec was read, not an empty document
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(excluded_checks=EXCLUDED)
        fuzz()


def test_fuzzing_reached_storage(fuzzed_app, api_schema):
    """Run after the fuzzing above (same module, declared after it): households were stored
    along the way, so the fuzzer did not only bounce off validation."""
    camp = fuzzed_app.extensions["survey"]
    assert camp.households.count(camp.gazetteer.communes) > 0
