"""Where a load round's CPU went: the server's workers, the database's processes, the whole machine.

A share of the bare ceiling says how fast submissions are; this says what they cost and who
paid. On one machine the database's own CPU per submission comes out of the same cores as
the workers' and the load generator's, and no change to the app can remove it: it tells a
share the code can still raise from one the machine's size caps. Counted from ``/proc``:
each process's user + system time, and the machine's busy time from ``/proc/stat``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

__all__ = ["CpuSplit", "metered", "database_pids", "server_pids", "is_local_address"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSplit:
    """CPU seconds over the rounds a server answered ``requests`` in."""

    requests: int = 0
    workers_s: float = 0.0
    database_s: float = 0.0
    machine_s: float = 0.0
    database: bool = False  # whether a local database server was counted

    def per_request_ms(self) -> tuple[float, float, float]:
        """(workers, database, whole machine) milliseconds of CPU per answered request."""
        n = self.requests or 1
        return 1000 * self.workers_s / n, 1000 * self.database_s / n, 1000 * self.machine_s / n

    def render(self) -> str:
        """``workers / database / machine``, the database as "-" when none was counted."""
        workers, database, machine = self.per_request_ms()
        return f"{workers:.2f} / {f'{database:.2f}' if self.database else '-'} / {machine:.2f}"


def _machine_seconds() -> float:
    """Busy CPU seconds of every core since boot (all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / _TICK


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _seconds(pids: list[int]) -> dict[int, float]:
    """Each live process's user + system CPU seconds."""
    out = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            out[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return out


def is_local_address(address: str | None) -> bool:
    """Whether a server seen at ``address`` runs on this machine: a Unix socket (no address),
    or an address one of this machine's interfaces holds (the kernel lets us bind to it)."""
    if address is None:
        return True
    ip = ipaddress.ip_address(address.split("/", 1)[0])
    if ip.is_loopback:
        return True
    try:
        with socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((str(ip), 0))
    except OSError:  # not ours (or no IPv6 here at all)
        return False
    return True


def server_pids(backend_pid: int, address: str | None) -> list[int]:
    """The processes of a PostgreSQL server whose backend ``backend_pid`` answered on
    ``address``: its postmaster (the backend's parent) and every child of it; none when the
    server is elsewhere, even if a process here happens to have that pid."""
    if not is_local_address(address):
        return []
    fields = _stat(backend_pid)
    if fields is None or not _is_postgres(backend_pid):
        return []
    postmaster = int(fields[1])
    children = [int(p) for p in os.listdir("/proc") if p.isdigit() and (_stat(int(p)) or [0, 0])[1] == str(postmaster)]
    return [postmaster, *children]


def _is_postgres(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().startswith(("postgres", "postmaster"))
    except OSError:
        return False


def database_pids(url: str | None) -> list[int]:
    """The processes of the PostgreSQL server at ``url`` when it runs on this machine; none
    for TinyDB or a server elsewhere (its CPU is not this machine's)."""
    if not url:
        return []
    with psycopg.connect(url, autocommit=True) as conn:  # the backend read while it lives
        pid, address = conn.execute("SELECT pg_backend_pid(), host(inet_server_addr())").fetchone()
        return server_pids(pid, address)


@contextmanager
def metered(split: CpuSplit, workers: Callable[[], list[int]], database_url: str | None) -> Iterator[None]:
    """Add the CPU spent inside the block to ``split``; processes that start within it (a
    database backend the pool opens) count from zero."""
    database = database_pids(database_url)
    split.database = split.database or bool(database)
    before_workers, before_db = _seconds(workers()), _seconds(database)
    machine = _machine_seconds()
    yield
    split.machine_s += _machine_seconds() - machine
    after_workers, after_db = _seconds(workers()), _seconds(database_pids(database_url))
    split.workers_s += sum(s - before_workers.get(pid, 0.0) for pid, s in after_workers.items())
    split.database_s += sum(s - before_db.get(pid, 0.0) for pid, s in after_db.items())
