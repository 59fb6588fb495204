"""What an event-loop server would change: gunicorn's sync workers beside a measurement prototype.

    .venv/bin/python -m bench.event_loop --size 230000 --rounds 6 --seconds 8 --processes 2 --delay-ms 1

Generates a campaign and serves it four ways at once: bare Flask's endpoint and the service
under gunicorn with the production settings (the benchmark's ceiling and its submissions),
then the same two under ``bench/loop_server.py``: an asyncio loop per process, the service's
flush replaced by one journal ``fdatasync`` per process shared by every request waiting,
after a commit delay (a prototype that measures, never a design to deploy: see its
docstring). ``wrk`` loads each in turn, ``--rounds`` times, 16 connections. Per server:
answered (bare) or acknowledged (service) per second, the share of the gunicorn ceiling and
of the ceiling of its own server beside it (medians over rounds, with their range), p50 and
p99, CPU per request, and waits per request (voluntary context switches of every thread).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .rounds import Served, add_load_arguments, all_started, alternate, prepare
from .server import ROOT, Server, children, free_port

__all__ = ["main", "LoopServer", "render"]


class LoopServer:
    """``bench.loop_server`` serving ``app`` on a free port, as ``bench.server.Server`` serves gunicorn;
    ``env`` is added to this process's environment."""

    def __init__(self, app: str, log: Path, env: dict[str, str], processes: int,
                 journal: Path | None = None, delay_ms: float = 1.0):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "bench.loop_server", app, str(self.port), str(processes),
               "--delay-ms", str(delay_ms)]
        if journal is not None:
            cmd += ["--journal", str(journal)]
        self.cmd, self.extra_env, self.log_path, self.processes = cmd, env, log, processes
        self.proc: subprocess.Popen | None = None

    def start(self) -> LoopServer:
        """Start the processes and wait until they answer (they share the port)."""
        self.log = open(self.log_path, "ab")
        env = {**os.environ, **self.extra_env}
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(self.workers()) < self.processes:
            time.sleep(0.1)
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
                time.sleep(2)  # every process has built its app
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"bench.loop_server did not start; see {self.log_path}")

    def workers(self) -> list[int]:
        """The processes serving, each with its loop and flushing thread."""
        return children(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        for pid in self.workers():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
        if self.proc:
            self.proc.wait(20)
        self.log.close()


def render(servers: list[Served]) -> str:
    """Rows in order: gunicorn bare, gunicorn service, loop bare, loop service."""
    lines = ["| server | per second | share of gunicorn's ceiling | share of its own server's ceiling | "
             "p50 / p99 ms | CPU ms per request: workers / machine | waits per request | failed |",
             "|---|---|---|---|---|---|---|---|"]
    for n, served in enumerate(servers):
        own = servers[0] if n < 2 else servers[2]
        lines.append(f"| {served.name} | {served.rate()} | {served.share(servers[0])} | {served.share(own)} | "
                     f"{served.costs()} | {served.failed()} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, serve four ways, load in alternating rounds; print the table."""
    p = argparse.ArgumentParser(prog="python -m bench.event_loop", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_load_arguments(p, "bench/results/event-loop")
    p.add_argument("--processes", type=int, default=2, help="the prototype's processes (one loop each)")
    p.add_argument("--delay-ms", type=float, default=1.0, help="the prototype's commit delay")
    args = p.parse_args(argv)
    camp, bodies = prepare(args)
    # what the servers add to this process's environment (gunicorn's address is its own)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir.resolve()), "SECRET_KEY": "bench"}
    servers = [Served("bare Flask, gunicorn (the ceiling)", "bench.bare:app", bare=True),
               Served("the service, gunicorn", "wsgi:app"),
               Served("bare Flask, event loop", "bench.bare:app", bare=True),
               Served(f"the service, event loop, one journal flush per process every {args.delay_ms:g} ms at most",
                      "wsgi:app")]
    running = [Server("bench.bare:app", args.workdir / "gunicorn-bare.log", env),
               Server("wsgi:app", args.workdir / "gunicorn-service.log", env),
               LoopServer("bench.bare:app", args.workdir / "loop-bare.log", env, args.processes),
               LoopServer("wsgi:app", args.workdir / "loop-service.log", env, args.processes,
                          journal=(args.workdir / "journal").resolve(), delay_ms=args.delay_ms)]
    with all_started(running):
        alternate(servers, running, args, bodies, camp.token)
    print(render(servers))
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
