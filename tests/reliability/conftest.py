"""Helpers for tests against a real gunicorn: tokens, a ledger of acknowledgements, crashes."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from survey import create_app
from tests.conftest import LiveServer

# Communes the department token submits into: two in Hòa Bình city, one in Đà Bắc.
COMMUNES = (4789, 4792, 4831)


@pytest.fixture
def tokens(data_dir) -> dict[str, str]:
    """A bearer token per test account, made in the data directory before any server starts."""
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "test"})
    users = app.extensions["survey"].users
    return {name: users.new_token(name) for name in ("officer", "officer2", "district", "department")}


def wait_for(condition, timeout: float = 60) -> None:
    """Poll ``condition`` until it holds: no fixed sleeps, the machine may be loaded."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def new_record(commune: int, n: int = 0) -> dict:
    """A valid household with a fresh id; ``n`` varies the content."""
    return {"id": str(uuid.uuid4()), "commune_code": commune, "hamlet": f"Xóm {n % 7}",
            "head_name": f"Hộ số {n}", "members": 1 + n % 9, "smartphone_users": n % 2,
            "installed_before": 0, "installed_during_visit": n % 2, "reasons_not_installed": [],
            "visited_on": "2020-08-15"}


def post(url: str, token: str, record: dict, timeout: float = 15) -> int | None:
    """POST a household; its status, or None when no answer came (connection cut)."""
    try:
        return requests.post(url + "/api/v1/households", json=record, timeout=timeout,
                             headers={"Authorization": f"Bearer {token}"}).status_code
    except requests.RequestException:
        return None


class Ledger:
    """What clients know: records acknowledged with a 2xx, and records sent without an answer."""

    def __init__(self):
        self.acked: dict[str, dict] = {}
        self.pending: dict[str, dict] = {}
        self.statuses: dict[int | None, int] = {}
        self.lock = threading.Lock()

    def next_record(self, commune: int, n: int) -> dict:
        """A record still owed an answer (retried as a real phone would), else a new one."""
        with self.lock:
            for rec in self.pending.values():
                if rec["commune_code"] == commune:
                    return rec
            rec = new_record(commune, n)
            self.pending[rec["id"]] = rec
            return rec

    def answer(self, record: dict, status: int | None) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status in (200, 201):
                self.acked[record["id"]] = record
                self.pending.pop(record["id"], None)


def read_stored(data_dir: Path) -> dict[str, list[dict]]:
    """Every household on disk by id (a list, to see duplicates): each commune's file parsed
    strictly, then the change log beside it applied (its acknowledged lines parse strictly too)."""
    found: dict[str, list[dict]] = {}

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in a data file: {keys}"
        return dict(pairs)

    def strict(raw: bytes):
        return json.loads(raw.decode("utf-8"), object_pairs_hook=no_duplicates)

    for path in sorted((data_dir / "households").glob("*.json")):
        data = strict(path.read_bytes())
        table = dict(data["households"])
        log = path.with_suffix(".log")
        if log.exists():
            head, _, body = log.read_bytes().partition(b"\n")
            if strict(head).get("base") == data.get("_rev"):
                for line in body[:body.rfind(b"\n") + 1].splitlines():  # an unfinished last line was never acknowledged
                    change = strict(line)
                    if change[0] == "put":
                        table[change[1]] = change[2]
                    else:
                        table.pop(change[1], None)
        for rid, rec in table.items():
            assert rid == rec["id"] and rec["commune_code"] == int(path.stem)
            found.setdefault(rid, []).append(rec)
    return found


class CrashableServer(LiveServer):
    """A LiveServer whose workers and master can be killed with SIGKILL."""

    def worker_pids(self) -> list[int]:
        """The master's current children, from /proc."""
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in path.read_text().split()]
        except FileNotFoundError:
            return []

    def kill_worker(self, rng) -> int | None:
        """SIGKILL one worker at random; the master forks a new one."""
        pids = self.worker_pids()
        if not pids:
            return None
        pid = rng.choice(pids)
        _kill(pid)
        return pid

    def kill_all(self) -> None:
        """SIGKILL the master and every worker at once, as a power cut would."""
        pids = self.worker_pids()
        _kill(self.proc.pid)
        for pid in pids:
            _kill(pid)
        self.proc.wait(10)
        self.log.close()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class SmallDisk:
    """A tmpfs of a few hundred KiB: fill it, free it, make it read-only, as real disks do."""

    def __init__(self, mount: Path):
        self.mount = mount
        self.filler = mount / "filler"

    def fill(self) -> None:
        """Write a filler file until the file system answers ENOSPC."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def remount(self, mode: str) -> None:
        """``ro`` or ``rw``; root cannot write to a read-only mount, unlike a chmod-ed directory."""
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.mount)], check=True)


@pytest.fixture
def small_disk(tmp_path, accounts_dir):
    """A data directory on its own 1 MiB tmpfs, holding the test accounts."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"these tests need root to mount a tmpfs: {done.stderr.strip()}")
    disk = SmallDisk(mount)
    try:
        shutil.copytree(accounts_dir, mount / "data")
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)
