"""Large imports run as a job beside the request, so no request waits for thousands of rows.

The upload is read and checked in the request (a bad file is a 4xx at once); its rows are
then validated and stored by a thread of the worker that took it. Progress goes to a small
JSON file in the data directory, so whichever worker answers the page's poll can read it.
A job whose file has not moved for a while (its worker was stopped) is shown as interrupted;
importing the file again completes it, since ids already stored change nothing.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ..memory import give_back
from ..storage import write_atomically
from ..storage.cache import CACHE
from ..users import User
from .imports import ImportReport, import_rows, read_rows

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["SYNC_ROWS", "report_of", "start", "status"]

log = logging.getLogger(__name__)
# Up to this many rows an import answers in the request itself (well under a second).
SYNC_ROWS = 1000
ERRORS_KEPT = 1000
STALE_SECONDS = 120
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")


def _path(camp: Campaign, job_id: str) -> Path:
    # Not *.json: backups take the data directory's JSON collections, and a job is not data.
    return Path(camp.data_dir) / "import-jobs" / f"{job_id}.status"


def _write(camp: Campaign, job_id: str, state: dict[str, Any]) -> None:
    path = _path(camp, job_id)
    path.parent.mkdir(exist_ok=True)
    write_atomically(path, orjson.dumps({**state, "touched": time.time()}))


def start(camp: Campaign, user: User, filename: str, raw: bytes, total: int, lang: str) -> str:
    """Start importing the ``total`` rows of the file ``raw`` as ``user``; returns the job's id.

    The job reads the rows from the file's bytes as it goes (the request checked them once),
    so a worker holds the file, not every row of it decoded."""
    job_id = secrets.token_urlsafe(12)
    state = {"id": job_id, "owner": user.username, "state": "running", "total": total, "done": 0}
    _write(camp, job_id, state)
    threading.Thread(target=_run, args=(camp, user, filename, raw, lang, state), name=f"import-{job_id}").start()
    return job_id


def _run(camp: Campaign, user: User, filename: str, raw: bytes, lang: str, state: dict) -> None:
    """The job: import in batches, writing progress at most twice a second, then the outcome."""
    last = 0.0

    def progress(n: int) -> None:
        nonlocal last
        state["done"] += n
        if time.monotonic() - last > 0.5:
            last = time.monotonic()
            _write(camp, state["id"], state)

    CACHE.clear()  # up to 55 MB of decoded communes, read again by the next reader that needs them
    give_back()  # the import peaks from what the worker holds, not from what its last export held
    try:
        report = import_rows(camp, user, read_rows(camp, filename, io.BytesIO(raw)), lang, progress)
        outcome = {**state, "state": "done", "done": state["total"], "created": report.created,
                   "unchanged": report.unchanged, "error_count": len(report.errors),
                   "errors": report.errors[:ERRORS_KEPT]}
        del report
    except Exception:
        log.exception("import job %s failed", state["id"])
        outcome = {**state, "state": "failed"}
    give_back(collect=True)  # before the outcome: whoever sees the job done sees the worker as it stays
    _write(camp, state["id"], outcome)


def status(camp: Campaign, user: User, job_id: str) -> dict | None:
    """The job's state for its owner; None for anyone else or an unknown id."""
    if not JOB_ID.match(job_id):
        return None
    try:
        state = orjson.loads(_path(camp, job_id).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    if state.get("owner") != user.username:
        return None
    if state["state"] == "running" and time.time() - state["touched"] > STALE_SECONDS:
        state["state"] = "interrupted"
    return state


def report_of(state: dict) -> ImportReport | None:
    """The finished job's outcome as the import page shows it."""
    if state["state"] != "done":
        return None
    return ImportReport(created=state["created"], unchanged=state["unchanged"],
                        errors=[tuple(e) for e in state["errors"]])
