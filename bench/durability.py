"""What durability costs a submission: the service beside itself with its flushes replaced.

    .venv/bin/python -m bench.durability --size 230000 --rounds 6 --seconds 8

Generates a campaign (as ``python -m bench`` does), then serves it four times at once, each
with the production settings: bare Flask's endpoint (the ceiling), the service, the service
whose ``fdatasync`` does nothing, and the service whose ``fdatasync`` only sleeps
``--wait-us`` microseconds (``bench/flush_variants.py``). ``wrk`` posts fresh households to
each in turn, ``--rounds`` times, 16 connections, so the four share whatever else the machine
does (``bench/rounds.py``). Per server: submissions acknowledged per second, the share of
the bare round beside it (median and range over rounds), the median p50 and p99, CPU per
answered request, the workers' and the whole machine's, and how often a worker waited per
request.

It answers one question the share of the ceiling raises: how much of the gap is the flush,
and how much of the flush's cost is the wait itself. No flush is the ceiling of every
durable design (a journal, group commit, any batching); the sleep is its floor, since a
record acknowledged only once it is on the disk makes its request wait at least once. The
disk's own ``fdatasync`` latency is measured beside them (``probes.disk_latency``).
"""

from __future__ import annotations

import argparse
import shutil

from .probes import disk_latency
from .rounds import Served, add_load_arguments, all_started, alternate, prepare
from .server import Server

__all__ = ["main", "render"]


def render(servers: list[Served], disk: tuple[float, float]) -> str:
    """The table: the first server is the bare ceiling, each round's share is against its round."""
    lines = [f"fdatasync on this disk, alone: p50 {disk[0]:.2f} ms, p99 {disk[1]:.2f} ms",
             "| server | per second | share of the ceiling: median (rounds) | p50 / p99 ms | CPU ms per request: "
             "workers / machine | waits per request |", "|---|---|---|---|---|---|"]
    for served in servers:
        lines.append(f"| {served.name} | {served.rate()} | {served.share(servers[0])} | {served.costs()} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, serve four ways, load in alternating rounds; print the table."""
    p = argparse.ArgumentParser(prog="python -m bench.durability", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(p, "bench/results/durability")
    p.add_argument("--wait-us", type=int, default=100, help="what the waiting variant sleeps per flush")
    args = p.parse_args(argv)
    camp, bodies = prepare(args)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    servers = [Served("bare Flask endpoint (ceiling)", "bench.bare:app", bare=True),
               Served("the service", "wsgi:app"),
               Served("the service, fdatasync a no-op", "bench.flush_variants:app", {"SURVEY_BENCH_FLUSH": "none"}),
               Served(f"the service, fdatasync a {args.wait_us} µs sleep", "bench.flush_variants:app",
                      {"SURVEY_BENCH_FLUSH": "wait", "SURVEY_BENCH_WAIT_US": str(args.wait_us)})]
    disk = disk_latency(camp.data_dir)
    running = [Server(s.app, args.workdir / f"server{n}.log", {**env, **s.env}) for n, s in enumerate(servers)]
    with all_started(running):
        alternate(servers, running, args, bodies, camp.token)
    print(render(servers, disk))
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
