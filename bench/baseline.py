"""The obvious design, as a user would write it: one TinyDB file for the whole province.

Every insert reads and rewrites the whole file (TinyDB's ``JSONStorage``), under one lock so
that gunicorn workers do not lose each other's writes.
"""

import os

from filelock import FileLock
from flask import Flask, request
from tinydb import TinyDB

app = Flask(__name__)
PATH = os.environ.get("BENCH_BASELINE_FILE", "baseline.json")


@app.post("/api/v1/households")
def create():
    """Insert one household into the province's single file."""
    record = request.get_json()
    with FileLock(PATH + ".lock"), TinyDB(PATH) as db:
        db.insert(record)
    return {"id": record.get("id")}, 201


@app.get("/healthz")
def healthz():
    """Lets the benchmark know the server is up."""
    return {"status": "ok"}
