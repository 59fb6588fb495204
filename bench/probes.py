"""Single-client probes: aggregate queries, freshness after a write, exports, baseline inserts, households stored."""

from __future__ import annotations

import json
import os
import statistics
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from survey import create_app

__all__ = ["Client", "Freshness", "count_stored", "disk_latency"]


class Client:
    """A tiny HTTP client with a bearer token that times each request to the last byte."""

    def __init__(self, url: str, token: str = ""):
        self.url, self.token = url, token

    def _open(self, path: str, body: bytes | None = None, timeout: float = 600):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=body, headers=headers)
        return urllib.request.urlopen(req, timeout=timeout)

    def timed_get(self, path: str) -> tuple[float, int, bytes]:
        """(seconds to the last byte, bytes read, the first 64 KB) of one GET."""
        start, size, head = time.perf_counter(), 0, b""
        with self._open(path) as resp:
            while chunk := resp.read(1 << 16):
                size += len(chunk)
                head = head or chunk
        return time.perf_counter() - start, size, head

    def transferred(self, path: str, encoding: str = "br") -> int:
        """Bytes on the wire of one GET when the client accepts ``encoding`` (not decoded)."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Encoding": encoding}
        req = urllib.request.Request(self.url + path, headers=headers)
        with urllib.request.urlopen(req, timeout=600) as resp:
            return len(resp.read())

    def get_json(self, path: str) -> tuple[float, dict]:
        """(seconds, decoded body) of one GET answering JSON."""
        start = time.perf_counter()
        with self._open(path) as resp:
            data = json.loads(resp.read())
        return time.perf_counter() - start, data

    def post(self, body: str) -> tuple[float, int]:
        """(seconds, status) of one POST of ``body`` with a fresh id."""
        payload = body.replace("@ID@", str(uuid.uuid4()), 1).encode()
        start = time.perf_counter()
        with self._open("/api/v1/households", payload) as resp:
            resp.read()
            return time.perf_counter() - start, resp.status


def aggregate_path(level: str, commune: int | None = None) -> str:
    """The API path of aggregates at ``level`` (whole province unless ``commune``)."""
    return f"/api/v1/aggregates?level={level}" + (f"&commune={commune}" if commune else "")


def warm_p50(client: Client, level: str, repeats: int) -> float:
    """Median seconds of ``repeats`` identical aggregate queries."""
    return statistics.median(client.get_json(aggregate_path(level))[0] for _ in range(repeats))


# Filtered household-list pages as the office asks them: a search over the province, a
# district's unreviewed records, a hamlet, a visit date deep in the pages.
LIST_QUERIES = ("/api/v1/households?q=nguyen%20van&per_page=50",
                "/api/v1/households?district=152&review=none&page=3",
                "/api/v1/households?q=xom&visited_on=2020-08-12&page=2",
                "/api/v1/households?officer=xa-4789&hamlet=X%C3%B3m%20M%E1%BB%9Bi")


def list_p50(client: Client, repeats: int) -> float:
    """Median seconds of the filtered list queries, each asked ``repeats`` times once warm."""
    for path in LIST_QUERIES:
        client.get_json(path)
    return statistics.median(client.get_json(path)[0] for _ in range(repeats) for path in LIST_QUERIES)


@dataclass
class Freshness:
    """Aggregates queried right after each of several writes."""

    p50_s: float
    checked: int
    correct: int


def after_write(client: Client, bodies: list[str], rounds: int) -> Freshness:
    """POST a household, then at once ask its commune's and the province's totals; count right."""
    times, correct = [], 0
    for body in bodies[:rounds]:
        commune = json.loads(body)["commune_code"]
        before = _households(client, "commune", commune)
        province = _households(client, "province")
        client.post(body)
        start = time.perf_counter()
        after_commune = _households(client, "commune", commune)
        times.append(time.perf_counter() - start)
        after_province = _households(client, "province")
        correct += after_commune == before + 1 and after_province == province + 1
    return Freshness(statistics.median(times), rounds, correct)


def _households(client: Client, level: str, commune: int | None = None) -> int:
    _, data = client.get_json(aggregate_path(level, commune))
    return sum(row["households"] for row in data["rows"] if not commune or row["code"] == commune)


def disk_latency(directory: Path, seconds: float = 2.0) -> tuple[float, float]:
    """(p50, p99) milliseconds of appending a household-sized line and fdatasync'ing it.

    What each durable submission waits for at least; the disk is shared with whatever else
    the machine runs, so its tail shows up in the submissions' p99.
    """
    path = directory / ".disk-probe"
    times: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            os.write(fd, b"x" * 450 + b"\n")
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return 1000 * times[len(times) // 2], 1000 * times[min(len(times) - 1, int(len(times) * 0.99))]


def count_stored(env: dict[str, str]) -> int:
    """Households stored, counted by the store itself in this process (not by the server)."""
    camp = create_app(dict(env)).extensions["survey"]
    return camp.households.count(camp.gazetteer.communes)
