"""Round trips to PostgreSQL per request: a submission and a warm aggregate cost a fixed few.

Every exchange with the server (a statement, BEGIN, COMMIT, a pool's liveness check) goes
through ``psycopg.Connection.wait``; counting its calls counts round trips. The bounds are
what the requests need, so a change that adds a query per request (or per commune) fails.
"""

from __future__ import annotations

import traceback
from collections import Counter

import psycopg
import pytest

from survey.demo import households_for

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


class RoundTrips:
    """Counts the calls of ``Connection.wait`` while active, with where each came from."""

    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        self.active = False
        original = psycopg.Connection.wait

        def wait(conn, gen, *args, **kwargs):
            return original(conn, self._counted(gen) if self.active else gen, *args, **kwargs)

        monkeypatch.setattr(psycopg.Connection, "wait", wait)

    def _counted(self, gen):
        """``gen``, noted once if it goes to the server at all (a COMMIT with no transaction open
        finishes without a word to it)."""
        try:
            wanted = gen.send(None)
        except StopIteration as done:
            return done.value
        self.calls.append(self._caller())
        while True:
            try:
                wanted = gen.send((yield wanted))
            except StopIteration as done:
                return done.value

    @staticmethod
    def _caller() -> str:
        frames = [f for f in traceback.extract_stack()[:-2] if "/survey/" in f.filename]
        return " < ".join(f"{f.filename.rsplit('/survey/', 1)[1]}:{f.name}" for f in frames[::-1][:4]) if frames else "?"

    def during(self, call):
        self.calls, self.active = [], True
        try:
            return call()
        finally:
            self.active = False

    def __len__(self) -> int:
        return len(self.calls)

    def __str__(self) -> str:
        return ", ".join(f"{where} x{n}" for where, n in Counter(self.calls).items())


@pytest.fixture
def trips(monkeypatch) -> RoundTrips:
    return RoundTrips(monkeypatch)


def test_a_submission_costs_few_round_trips(api, trips, make_household):
    assert api.post("/api/v1/households", make_household()).status_code == 201  # token made, pool warm
    answer = trips.during(lambda: api.post("/api/v1/households", make_household()))
    assert answer.status_code == 201
    # the token with its account and the campaign's settings, the create-once: no BEGIN, COMMIT or check
    assert len(trips) == 2, str(trips)


def test_a_submission_with_the_session_cookie_costs_as_few(client, browser, trips, make_household):
    """The outbox's submission: the session's account comes with the settings, then the create-once."""
    browser.login("officer")
    client.get("/api/v1/session?lang=vi")
    headers = {"X-CSRF-Token": client.get("/api/v1/session").get_json()["csrf_token"]}
    assert client.post("/api/v1/households?lang=vi", json=make_household(), headers=headers).status_code == 201
    answer = trips.during(lambda: client.post("/api/v1/households?lang=vi", json=make_household(), headers=headers))
    assert answer.status_code == 201
    assert len(trips) == 2, str(trips)


@pytest.mark.parametrize("level", ["province", "district", "commune"])
def test_a_warm_aggregate_costs_few_round_trips(api, camp, trips, level):
    for commune, records in households_for(camp.gazetteer, 600, seed=3):
        camp.households.bulk_insert(commune, records)
    url = f"/api/v1/aggregates?level={level}"
    assert api.get(url).status_code == 200  # cold: computed and held
    answer = trips.during(lambda: api.get(url))
    assert answer.status_code == 200
    # the token with its account, the versions of the communes in scope; the answer is kept
    assert len(trips) == 2, str(trips)


def test_a_province_aggregate_after_a_write_reads_the_versions_once(api, camp, trips, make_household):
    """The answer kept is stale after a submission: the communes' held summaries are checked
    in one read, and only the changed commune is read again, not one query per commune."""
    for commune, records in households_for(camp.gazetteer, 600, seed=3):
        camp.households.bulk_insert(commune, records)
    url = "/api/v1/aggregates?level=province"
    before = api.get(url).get_json()["rows"]
    assert api.post("/api/v1/households", make_household()).status_code == 201
    answer = trips.during(lambda: api.get(url))
    assert answer.status_code == 200
    assert sum(r["households"] for r in answer.get_json()["rows"]) == sum(r["households"] for r in before) + 1
    assert len(camp.gazetteer.communes) > 100
    # token, the versions (the answer's token, then the held summaries checked against them: one
    # read), then the changed commune's version with the records written since: one statement
    assert len(trips) == 3, str(trips)
