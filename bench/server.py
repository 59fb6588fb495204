"""gunicorn with the production config (gunicorn.conf.py) on loopback, and its workers' memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["Server", "free_port", "children"]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """The ids of the processes ``pid`` started (Linux ``/proc``); none once it is gone."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


class Server:
    """One gunicorn master serving ``app`` (``module:attr``) with the repository's config."""

    def __init__(self, app: str, log: Path, env: dict[str, str] | None = None):
        self.app, self.log_path, self.extra_env = app, log, env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.peak_rss_mb = 0.0

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> Server:
        """Start gunicorn and wait until every worker answers /healthz."""
        env = {**os.environ, "SURVEY_BIND": f"127.0.0.1:{self.port}", **self.extra_env}
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._healthy():
                self._wait_for_workers(deadline)
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn ({self.app}) did not start; see {self.log_path}")

    def _healthy(self) -> bool:
        try:
            urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
            return True
        except OSError:
            return False

    def _wait_for_workers(self, deadline: float) -> None:
        """Every worker has imported the app, so no import lands inside a measurement."""
        expected = int(self.extra_env.get("SURVEY_WORKERS", os.environ.get("SURVEY_WORKERS", 0)) or
                       (os.cpu_count() or 1) * 2 + 1)
        while time.monotonic() < deadline and len(self.workers()) < expected:
            time.sleep(0.1)
        time.sleep(1.5)

    def workers(self) -> list[int]:
        """The worker processes' ids."""
        return children(self.proc.pid) if self.proc else []

    def sample_memory(self) -> float:
        """The highest peak RSS (VmHWM) of any worker so far, in MB; kept across samples."""
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)
            except OSError:
                continue
        return self.peak_rss_mb

    def reset_peaks(self) -> None:
        """Bring each worker's VmHWM down to its RSS now (Linux: 5 > clear_refs), so a step that
        is not part of a measurement (a sign-in's scrypt: 32 MB) is left out of the peaks sampled
        after it; ``peak_rss_mb`` keeps what was sampled before."""
        for pid in self.workers():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                continue

    def stop(self) -> None:
        """Record the workers' peak memory, then stop gunicorn."""
        if self.proc and self.proc.poll() is None:
            self.sample_memory()
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
