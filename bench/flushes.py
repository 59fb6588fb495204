"""How many fdatasyncs the service's workers make per acknowledged submission, under load.

    .venv/bin/python -m bench.flushes --size 230000 --seconds 8 [--disk-writer-mbps 16]

Generates a campaign, starts the service with the production settings, warms it up, then
attaches ``strace -f -c -e trace=fdatasync,fsync`` to every worker while ``wrk`` posts
households (16 connections). strace slows the workers, so the submissions per second here
are not a throughput figure; the count of flushes per submission is what it is for: two
before group commit (the id claim, then the log line), at most one after, fewer when
submissions wait for the same commune's flush.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import time
from pathlib import Path

from .disk import DiskWriter
from .generate import generate, post_bodies
from .load import post_load
from .server import Server

__all__ = ["main"]


def _traced_load(server: Server, bodies: Path, token: str, seconds: float, out: Path, writer_mbps: float,
                 data_dir: Path):
    """One wrk run with strace counting the workers' flushes into ``out``."""
    cmd = ["strace", "-f", "-c", "-e", "trace=fdatasync,fsync", "-o", str(out)]
    for pid in server.workers():
        cmd += ["-p", str(pid)]
    tracer = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    time.sleep(1)  # attached to every worker before the first request
    busy = DiskWriter(data_dir.parent, writer_mbps) if writer_mbps else contextlib.nullcontext()
    try:
        with busy:
            return post_load(server.url, bodies, token, seconds, 16)
    finally:
        tracer.terminate()
        tracer.wait(30)


def main(argv: list[str] | None = None) -> int:
    """Generate, serve, load under strace; print the flushes per submission."""
    p = argparse.ArgumentParser(prog="python -m bench.flushes", description=__doc__)
    p.add_argument("--size", type=int, default=230000)
    p.add_argument("--seconds", type=float, default=8)
    p.add_argument("--disk-writer-mbps", type=float, default=0)
    p.add_argument("--workdir", type=Path, default=Path("bench/results/flushes"))
    args = p.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    camp = generate(args.workdir, args.size)
    bodies = args.workdir / "bodies.txt"
    post_bodies(bodies)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    out = args.workdir / "strace.txt"
    with Server("wsgi:app", args.workdir / "service.log", env) as server:
        post_load(server.url, bodies, camp.token, 2, 16)  # every commune's log exists: no header flushes
        load = _traced_load(server, bodies, camp.token, args.seconds, out, args.disk_writer_mbps,
                            camp.data_dir)
    rows = [line.split() for line in out.read_text().splitlines()]
    counts = {row[-1]: int(row[3]) for row in rows if row and row[-1] in ("fdatasync", "fsync")}  # calls
    print(f"{load.created} submissions acknowledged (201) under strace; fdatasync {counts.get('fdatasync', 0)} "
          f"({counts.get('fdatasync', 0) / max(1, load.created):.2f} each), fsync {counts.get('fsync', 0)}")
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
