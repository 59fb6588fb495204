"""What each worker keeps between submissions is never older than the stored documents:
an account's User, the campaign settings' visit window."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from survey.settings import DEFAULTS

from ..conftest import household

pytestmark = pytest.mark.each_backend  # every store in TinyDB files, then in PostgreSQL

URL = "/api/v1/households"


def test_a_token_is_refused_at_once_after_deactivation_on_the_same_worker(api, camp):
    assert api.post(URL, household(), user="officer").status_code == 201  # the worker now knows the account
    camp.users.update("officer", active=False)
    assert api.post(URL, household(), user="officer").status_code == 401


def test_a_token_is_refused_at_once_after_its_account_is_revoked(api, camp):
    assert api.post(URL, household(), user="officer").status_code == 201
    camp.users.revoke_tokens("officer")
    assert api.post(URL, household(), user="officer").status_code == 401


def test_a_changed_account_applies_to_the_next_submission(api, camp):
    assert api.post(URL, household(), user="officer").status_code == 201
    camp.users.update("officer", must_change=True)
    r = api.post(URL, household(), user="officer")
    assert r.status_code == 403 and r.get_json()["change_password"] == "/api/v1/password"
    camp.users.update("officer", must_change=False)
    assert api.post(URL, household(), user="officer").status_code == 201


def _window(camp, start: dt.date, end: dt.date) -> None:
    values = {k: v for k, v in dataclasses.asdict(DEFAULTS).items() if not k.startswith("updated")}
    camp.settings.save({**values, "start": start, "end": end}, "department", camp.stamp())


def test_a_new_visit_window_applies_to_the_next_submission(api, camp):
    assert api.post(URL, household(visited_on="2020-08-15")).status_code == 201
    _window(camp, dt.date(2020, 8, 20), dt.date(2020, 8, 30))
    r = api.post(URL + "?lang=en", household(visited_on="2020-08-15"))
    assert r.status_code == 422 and r.get_json()["fields"]["visited_on"] == [
        "Must be within the campaign, 20/08/2020 to 30/08/2020."]
    assert api.post(URL, household(visited_on="2020-08-25")).status_code == 201
    _window(camp, DEFAULTS.start, DEFAULTS.end)
    assert api.post(URL, household(visited_on="2020-08-15")).status_code == 201
