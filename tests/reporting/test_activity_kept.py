"""The dashboard's activity per commune, kept beside each commune's file like hamlet totals."""

from __future__ import annotations

from survey.demo import households_for
from survey.reporting.dashboard import ACTIVITY, activity

from ..conftest import household


def test_kept_activity_equals_activity_of_the_records_after_logged_writes(api, camp):
    for commune, records in households_for(camp.gazetteer, 600, seed=3):
        camp.households.bulk_insert(commune, records)
    code = 4789
    assert (camp.data_dir / "households" / f"{code}.{ACTIVITY}.tally").exists()
    for day in ("2020-08-20", "2020-08-21"):
        assert api.post("/api/v1/households", household(visited_on=day)).status_code == 201
    fields = camp.form.aggregate["installed"]
    for commune in (code, 4792):
        records = list(camp.households.scan(commune))
        kept = camp.households.derived(commune, ACTIVITY, lambda rs: None)  # None: the kept tally answered
        assert kept == activity(records, fields, camp.tz)
    assert kept is not None


def test_kept_activity_of_a_commune_without_records():
    assert activity([], ["installed_before"], None) == {"by_day": {}, "last_submitted": None}
