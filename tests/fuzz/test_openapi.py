"""schemathesis against /api/openapi.json with a valid token: no 5xx, answers as the spec says.

The schema is loaded when the module is imported (schemathesis parametrizes at collection),
so the app runs over a data directory of its own, removed when the module is done.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from survey import create_app
from tests.conftest import PASSWORD

DATA_DIR = tempfile.mkdtemp(prefix="survey-fuzz-")
APP = create_app({"SURVEY_DATA_DIR": DATA_DIR, "SECRET_KEY": "test", "TESTING": True})
APP.extensions["survey"].users.add("department", PASSWORD, "department", None)
TOKEN = APP.extensions["survey"].users.new_token("department")
# The fuzzed service runs during its campaign: the window of visits ends today, so a household
# without a visit date (today by default) can be stored.
_TODAY = APP.extensions["survey"].today()
APP.extensions["survey"].settings.save({"start": _TODAY - dt.timedelta(days=30), "end": _TODAY,
                                        "agency_deadline": _TODAY, "province_deadline": _TODAY,
                                        "target_pct": 50, "stale_days": 3}, "department", "fuzz")

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)
schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})
# Unknown query parameters are ignored, as HTTP APIs do; everything else off-spec must be refused.
schema.config.generation.update(allow_extra_parameters=False)


@pytest.fixture(scope="module", autouse=True)
def _remove_data_dir():
    """The fuzzed app's records go away with the module."""
    yield
    shutil.rmtree(DATA_DIR, ignore_errors=True)


# Business rules JSON Schema cannot state (cross-field sums, no future date, no invisible
# characters, the PUT id matching the URL) make some schema-valid bodies a documented 422,
# so "valid data must be accepted" does not apply; every other check does.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case):
    """Every generated request, valid or not, gets a documented, well-formed, non-5xx answer."""
    case.call_and_validate(excluded_checks=EXCLUDED)


def test_fuzzing_reached_storage():
    """The fuzzer did not only bounce off validation: households were stored along the way."""
    camp = APP.extensions["survey"]
    assert camp.households.count(camp.gazetteer.communes) > 0
