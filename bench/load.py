"""The load process: wrk (from Debian) posting households, 16 connections by default."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LoadResult", "ensure_wrk", "post_load"]

SCRIPT = Path(__file__).resolve().parent / "post.lua"


@dataclass
class LoadResult:
    """What one wrk run measured."""

    requests: int
    seconds: float
    created: int
    other: int
    socket_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        """Answered requests per second (all statuses; ``created`` says how many were 201)."""
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian's archive when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing: run `sudo apt-get install -y wrk` first")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, capture_output=True).returncode:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env, check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def post_load(url: str, bodies: Path, token: str, seconds: float, connections: int = 16,
              threads: int = 2, path: str = "/api/v1/households",
              headers: dict[str, str] | None = None) -> LoadResult:
    """POST fresh households to ``url`` + ``path`` for ``seconds`` from ``connections`` concurrent
    clients, with the bearer ``token`` (none if empty) and ``headers`` on every request."""
    extra = [f"{name}: {value}" for name, value in (headers or {}).items()]
    cmd = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
           "--timeout", "10s", "-s", str(SCRIPT), url + path, "--", str(bodies), token, *extra]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next(text for text in reversed(out.splitlines()) if text.startswith("{"))
    data = json.loads(line)
    return LoadResult(requests=data["requests"], seconds=data["duration_us"] / 1e6, created=data["created"],
                      other=data["other"], socket_errors=data["socket_errors"],
                      p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000)
