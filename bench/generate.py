"""A synthetic campaign written straight into a data directory, and the one-file baseline.

The records come from ``survey.demo`` (uneven spread over the real communes, xóm/bản
hamlets, Mường and Kinh names, plausible counts and reasons) and go in through the store's
own ``bulk_insert``, so the files are exactly what the service reads.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import orjson

from survey import create_app
from survey.demo import households_for
from survey.households.records import SERVER_FIELDS

__all__ = ["PASSWORD", "TOKEN_USER", "Campaign", "generate", "post_bodies"]

TOKEN_USER = "bench-so"  # the Department's: it may write in every commune
PASSWORD = "bench password"  # TOKEN_USER's, for a sign-in through the login form


@dataclass
class Campaign:
    """What the benchmark needs to know about a generated data directory."""

    data_dir: Path
    baseline_file: Path
    households: int
    token: str


def generate(root: Path, total: int, seed: int = 2020, database_url: str | None = None,
             baseline: bool = True) -> Campaign:
    """Write ``total`` households into ``root/data`` (or the database at ``database_url``) and,
    with ``baseline``, the same into one TinyDB file. One commune's records are held at a
    time, so memory follows the largest commune, not the province."""
    data_dir, baseline_file = root / "data", root / "baseline.json"
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "bench", "SURVEY_DATABASE_URL": database_url})
    camp = app.extensions["survey"]
    added = 0
    with open(baseline_file if baseline else os.devnull, "wb") as one_file:
        one_file.write(b'{"_default":{')
        for commune, records in households_for(camp.gazetteer, total, seed):
            added += camp.households.bulk_insert(commune, records)
            _append_baseline(one_file, records, first_id=added - len(records) + 1)
        one_file.write(b"}}")
    camp.users.add(TOKEN_USER, PASSWORD, "department", None)
    return Campaign(data_dir, baseline_file, added, camp.users.new_token(TOKEN_USER))


def _append_baseline(fh, records: list[dict], first_id: int) -> None:
    """TinyDB's own layout: integer document ids as keys of the default table."""
    for n, record in enumerate(records, first_id):
        fh.write(b"," if n > 1 else b"")
        fh.write(b'"%d":' % n + orjson.dumps(record))


def post_bodies(path: Path, count: int = 3000, seed: int = 2021) -> list[str]:
    """Request bodies as an officer's phone sends them, with ``@ID@`` where a fresh id goes."""
    app = create_app({"SURVEY_DATA_DIR": str(path.parent / "bodies-app"), "SECRET_KEY": "bench"})
    gazetteer = app.extensions["survey"].gazetteer
    bodies = []
    for _, records in households_for(gazetteer, count, seed=2020):
        for record in records:
            body = {k: v for k, v in record.items() if k not in SERVER_FIELDS}
            body["id"] = "@ID@"
            bodies.append(orjson.dumps(body).decode())
    random.Random(seed).shuffle(bodies)
    path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
    return bodies
