"""Slow-client load and a prober that times answers, for the production start's availability test.

Kept apart from the test so the same measurement can be pointed at any server (bare gunicorn,
or the documented start with nginx in front).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
HEADER = b"GET /healthz HTTP/1.1\r\nHost: survey\r\nX-Pad: " + b"a" * 4000 + b"\r\n\r\n"
UPLOAD = (b"POST /api/v1/households HTTP/1.1\r\nHost: survey\r\nContent-Type: application/json\r\n"
          b"Content-Length: 1048576\r\n\r\n")


class SlowClients(threading.Thread):
    """Connections that send a header one byte a second, and 1 MB uploads at 100 B/s.

    A connection the server closes (a timeout) is opened again at the next tick, so the
    pressure lasts as long as the test.
    """

    def __init__(self, port: int, headers: int = 20, uploads: int = 10):
        super().__init__(daemon=True)
        self.port, self.stopping = port, threading.Event()
        self.slots: list[dict] = ([{"kind": "header"} for _ in range(headers)]
                                  + [{"kind": "upload"} for _ in range(uploads)])
        self.opened = 0

    def _open(self, slot: dict) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=1)
        if slot["kind"] == "upload":
            sock.sendall(UPLOAD)
        slot.update(sock=sock, sent=0)
        self.opened += 1

    def _tick(self, slot: dict) -> None:
        try:
            if slot.get("sock") is None:
                self._open(slot)
            if slot["kind"] == "header":
                slot["sock"].sendall(HEADER[slot["sent"]:slot["sent"] + 1])
                slot["sent"] += 1
            else:
                slot["sock"].sendall(b"0" * 100)
        except OSError:
            if slot.get("sock") is not None:
                slot["sock"].close()
            slot["sock"] = None

    def run(self) -> None:
        while not self.stopping.is_set():
            for slot in self.slots:
                self._tick(slot)
            self.stopping.wait(1)
        for slot in self.slots:
            if slot.get("sock") is not None:
                slot["sock"].close()


@dataclass
class Probe:
    """Times of each answer (None when none came within the deadline), per kind of request."""

    times: dict[str, list[float | None]] = field(default_factory=lambda: {"healthz": [], "post": []})
    statuses: dict[str, list[int | None]] = field(default_factory=lambda: {"healthz": [], "post": []})

    def timed(self, kind: str, call) -> None:
        start = time.monotonic()
        try:
            status = call().status_code
        except requests.RequestException:
            self.times[kind].append(None)
            self.statuses[kind].append(None)
            return
        self.times[kind].append(time.monotonic() - start)
        self.statuses[kind].append(status)

    def summary(self) -> str:
        parts = []
        for kind, times in self.times.items():
            ok = [t for t in times if t is not None and t < 2]
            parts.append(f"{kind}: {len(ok)}/{len(times)} within 2 s, slowest "
                         f"{max((t for t in times if t is not None), default=float('nan')):.2f} s, "
                         f"{times.count(None)} without answer")
        return "; ".join(parts)


def probe_under_slow_clients(url: str, port: int, token: str, seconds: float = 30) -> Probe:
    """While slow clients hold their connections, time /healthz and an authenticated POST."""
    load = SlowClients(port)
    load.start()
    probe = Probe()
    deadline = time.monotonic() + seconds
    time.sleep(2)  # let every slow connection be open before the first probe
    while time.monotonic() < deadline:
        probe.timed("healthz", lambda: requests.get(url + "/healthz", timeout=2))
        record = {"id": str(uuid.uuid4()), "commune_code": 4789, "hamlet": "Xóm Mới", "head_name": "Bùi Văn An",
                  "members": 3, "smartphone_users": 1, "installed_before": 0, "installed_during_visit": 1,
                  "reasons_not_installed": [], "visited_on": "2020-08-15"}
        probe.timed("post", lambda record=record: requests.post(url + "/api/v1/households", json=record, timeout=2,
                                                                headers={"Authorization": f"Bearer {token}"}))
        time.sleep(0.3)
    load.stopping.set()
    load.join(5)
    return probe


class ProductionStart:
    """``deploy/serve`` (what ``make serve`` and the Dockerfile run) on a free loopback port."""

    def __init__(self, data_dir: Path, workers: int | None = None):
        self.data_dir, self.port = data_dir, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "SURVEY_DATA_DIR": str(data_dir), "SURVEY_BIND": f"127.0.0.1:{self.port}",
                    "SECRET_KEY": "test", "VENV": str(ROOT / ".venv")}
        if workers:
            self.env["SURVEY_WORKERS"] = str(workers)
        self.proc: subprocess.Popen | None = None

    def start(self, command: list[str] | None = None) -> ProductionStart:
        self.log = open(self.data_dir.parent / f"serve-{self.port}.log", "ab")  # noqa: SIM115 -- closed by stop()
        self.proc = subprocess.Popen(command or [str(ROOT / "deploy" / "serve")], cwd=ROOT, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the production start did not answer; see {self.log.name}")

    def stop(self) -> None:
        """TERM to the start's process group (make, the script, nginx, gunicorn), then wait."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def listening_addresses(self) -> set[str]:
        """Local addresses (hex, as in /proc/net/tcp) listening on this start's port."""
        found = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, port = local.split(":")
                if state == "0A" and int(port, 16) == self.port:
                    found.add(addr)
        return found


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
