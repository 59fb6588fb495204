"""Servers side by side, loaded in alternating rounds: what ``bench.durability`` and
``bench.event_loop`` share.

Each compares a few ways of serving one campaign. Every server is up at once and ``wrk``
loads each in turn, round after round, so all of them meet the same noise from the rest
of the machine; a server's share is its round against the bare round beside it. Besides
requests per second and latency it counts CPU per request (``bench/cpu.py``) and how often
a worker *waited* per request: the voluntary context switches of every thread of its
processes, from ``/proc`` (a block on I/O, a lock or a sleep; a sync worker also waits
once for each connection it accepts). On a virtual machine a wait is not free: the worker
is put to sleep and woken through the hypervisor, and its caches are cold when it runs again.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .cpu import CpuSplit, metered
from .generate import Campaign, generate, post_bodies
from .load import LoadResult, post_load

__all__ = ["Served", "Running", "voluntary_switches", "alternate", "all_started", "prepare", "add_load_arguments"]


class Running(Protocol):
    """A started server: ``bench.server.Server`` or ``bench.event_loop.LoopServer``."""

    url: str

    def start(self) -> Running: ...

    def stop(self) -> None: ...

    def workers(self) -> list[int]: ...


@dataclass
class Served:
    """One server's rounds; ``bare`` says it answers without storing (its share counts every answer)."""

    name: str
    app: str
    env: dict[str, str] = field(default_factory=dict)
    bare: bool = False
    runs: list[LoadResult] = field(default_factory=list)
    cpu: CpuSplit = field(default_factory=CpuSplit)
    waits: int = 0  # the workers' voluntary context switches over the rounds

    @property
    def waits_per_request(self) -> float:
        """How often a worker blocked per answered request (I/O, a lock, a sleep, accept)."""
        return self.waits / (self.cpu.requests or 1)

    def per_s(self, run: LoadResult) -> float:
        """The bare endpoint's answers, or the service's acknowledged (201) submissions, per second."""
        return (run.requests if self.bare else run.created) / run.seconds if run.seconds else 0.0

    def share(self, ceiling: Served) -> str:
        """``median% (min-max%)`` of this server's rounds against ``ceiling``'s beside them."""
        shares = [100 * self.per_s(run) / ceiling.per_s(bare) for run, bare in zip(self.runs, ceiling.runs)]
        return f"{statistics.median(shares):.1f}% ({min(shares):.0f}-{max(shares):.0f}%)"

    def rate(self) -> str:
        """Over every round, per second."""
        total = sum(run.requests if self.bare else run.created for run in self.runs)
        return f"{total / sum(run.seconds for run in self.runs):,.0f}"

    def costs(self) -> str:
        """``p50 / p99 | workers / machine CPU ms | waits`` cells, latencies the medians of the rounds'."""
        workers, _, machine = self.cpu.per_request_ms()
        return (f"{statistics.median(r.p50_ms for r in self.runs):.1f} / "
                f"{statistics.median(r.p99_ms for r in self.runs):.1f} | {workers:.2f} / {machine:.2f} | "
                f"{self.waits_per_request:.2f}")

    def failed(self) -> int:
        """Answers other than 201 and socket errors, over every round."""
        return sum(run.other + run.socket_errors for run in self.runs)


def voluntary_switches(pids: list[int]) -> int:
    """The processes' voluntary context switches so far, every thread's: each is a wait
    (Linux ``/proc``; a process's own ``status`` counts its first thread alone)."""
    total = 0
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                status = (task / "status").read_text()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in status.splitlines()
                         if line.startswith("voluntary_ctxt_switches"))
    return total


def add_load_arguments(p: argparse.ArgumentParser, workdir: str) -> None:
    """The options every side-by-side run takes."""
    p.add_argument("--size", type=int, default=230000)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=float, default=8, help="per server per round")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workdir", type=Path, default=Path(workdir))


def prepare(args: argparse.Namespace) -> tuple[Campaign, Path]:
    """A fresh campaign of ``args.size`` in ``args.workdir`` and the bodies wrk posts."""
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    camp = generate(args.workdir, args.size, baseline=False)
    bodies = args.workdir / "bodies.txt"
    post_bodies(bodies)
    return camp, bodies


@contextmanager
def all_started(running: list[Running]) -> Iterator[None]:
    """Every server started, and every one started stopped again, whatever happens."""
    started: list[Running] = []
    try:
        for server in running:
            started.append(server.start())
        yield
    finally:
        for server in started:
            server.stop()


def alternate(servers: list[Served], running: list[Running], args: argparse.Namespace, bodies: Path,
              token: str) -> None:
    """Load each started server in turn, ``args.rounds`` times."""
    for _ in range(args.rounds):
        for served, server in zip(servers, running):
            before = voluntary_switches(server.workers())
            with metered(served.cpu, server.workers, None):
                run = post_load(server.url, bodies, "" if served.bare else token, args.seconds, args.connections)
            served.waits += voluntary_switches(server.workers()) - before
            served.cpu.requests += run.requests
            served.runs.append(run)
