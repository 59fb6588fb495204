"""What durability costs a submission: the service beside itself with its flushes replaced.

    .venv/bin/python -m bench.durability --size 230000 --rounds 6 --seconds 8

Generates a campaign (as ``python -m bench`` does), then serves it four times at once, each
with the production settings: bare Flask's endpoint (the ceiling), the service, the service
whose ``fdatasync`` does nothing, and the service whose ``fdatasync`` only sleeps
``--wait-us`` microseconds (``bench/flush_variants.py``). ``wrk`` posts fresh households to
each in turn, ``--rounds`` times, 16 connections, so the four share whatever else the machine
does. Per server: submissions acknowledged per second, the share of the bare round beside it
(median and range over rounds), the median p50 and p99, CPU per answered request, the
workers' and the whole machine's (``bench/cpu.py``), and how often a worker waited per
request: its voluntary context switches (every block on I/O, a lock or a sleep), from
``/proc``. On a virtual machine a wait is not free: the worker is put to sleep and woken
through the hypervisor, and its caches are cold when it runs again.

It answers one question the share of the ceiling raises: how much of the gap is the flush,
and how much of the flush's cost is the wait itself. No flush is the ceiling of every
durable design (a journal, group commit, any batching); the sleep is its floor, since a
record acknowledged only once it is on the disk makes its request wait at least once. The
disk's own ``fdatasync`` latency is measured beside them (``probes.disk_latency``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .cpu import CpuSplit, metered
from .generate import generate, post_bodies
from .load import LoadResult, post_load
from .probes import disk_latency
from .server import Server

__all__ = ["main", "Served", "render", "voluntary_switches"]


@dataclass
class Served:
    """One server's rounds."""

    name: str
    app: str
    env: dict[str, str] = field(default_factory=dict)
    runs: list[LoadResult] = field(default_factory=list)
    cpu: CpuSplit = field(default_factory=CpuSplit)
    waits: int = 0  # the workers' voluntary context switches over the rounds

    @property
    def waits_per_request(self) -> float:
        """How often a worker blocked per answered request (I/O, a lock, a sleep, accept)."""
        return self.waits / (self.cpu.requests or 1)

    def answered_per_s(self, run: LoadResult, bare: bool) -> float:
        """The bare endpoint's answers, or the service's acknowledged (201) submissions, per second."""
        return (run.requests if bare else run.created) / run.seconds if run.seconds else 0.0


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


def render(servers: list[Served], disk: tuple[float, float], wait_us: int) -> str:
    """The table: the first server is the bare ceiling, each round's share is against its round."""
    bare = servers[0]
    lines = [f"fdatasync on this disk, alone: p50 {disk[0]:.2f} ms, p99 {disk[1]:.2f} ms",
             "| server | per second | share of the ceiling: median (rounds) | p50 / p99 ms | CPU ms per request: "
             "workers / machine | waits per request |", "|---|---|---|---|---|---|"]
    for served in servers:
        is_bare = served is bare
        shares = [100 * served.answered_per_s(run, is_bare) / bare.answered_per_s(ceiling, True)
                  for run, ceiling in zip(served.runs, bare.runs)]
        total = sum(run.requests if is_bare else run.created for run in served.runs)
        per_s = total / sum(run.seconds for run in served.runs)
        workers, _, machine = served.cpu.per_request_ms()
        name = served.name.replace("{wait}", str(wait_us))
        spread = f"{statistics.median(shares):.1f}% ({min(shares):.0f}-{max(shares):.0f}%)"
        lines.append(f"| {name} | {per_s:,.0f} | {spread} | "
                     f"{statistics.median(r.p50_ms for r in served.runs):.1f} / "
                     f"{statistics.median(r.p99_ms for r in served.runs):.1f} | {workers:.2f} / {machine:.2f} | "
                     f"{served.waits_per_request:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, serve four ways, load in alternating rounds; print the table."""
    p = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=230000)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--seconds", type=float, default=8, help="per server per round")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--wait-us", type=int, default=100, help="what the waiting variant sleeps per flush")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/durability"))
    args = p.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    camp = generate(args.workdir, args.size, baseline=False)
    bodies = args.workdir / "bodies.txt"
    post_bodies(bodies)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    servers = [Served("bare Flask endpoint (ceiling)", "bench.bare:app"),
               Served("the service", "wsgi:app"),
               Served("the service, fdatasync a no-op", "bench.flush_variants:app", {"SURVEY_BENCH_FLUSH": "none"}),
               Served("the service, fdatasync a {wait} µs sleep", "bench.flush_variants:app",
                      {"SURVEY_BENCH_FLUSH": "wait", "SURVEY_BENCH_WAIT_US": str(args.wait_us)})]
    disk = disk_latency(camp.data_dir)
    running = [Server(s.app, args.workdir / f"server{n}.log", {**env, **s.env}) for n, s in enumerate(servers)]
    try:
        for server in running:
            server.start()
        for _ in range(args.rounds):
            for served, server in zip(servers, running):
                token = "" if served is servers[0] else camp.token
                before = voluntary_switches(server.workers())
                with metered(served.cpu, server.workers, None):
                    run = post_load(server.url, bodies, token, args.seconds, args.connections)
                served.waits += voluntary_switches(server.workers()) - before
                served.cpu.requests += run.requests
                served.runs.append(run)
    finally:
        for server in running:
            server.stop()
    print(render(servers, disk, args.wait_us))
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
