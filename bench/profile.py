"""Where the time of a submission goes: pyinstrument over submissions through Flask's test client.

    .venv/bin/python -m bench.profile --size 230000 --submissions 2000

Generates a campaign (as ``python -m bench`` does), warms up, times ``--submissions`` POSTs
without the profiler (wall and CPU per submission), then profiles the same number and prints
pyinstrument's call tree (``--html`` also writes the interactive page). One process, one
thread: the figures are the CPU a submission costs and the time it waits on the disk, not
what gunicorn adds.
"""

from __future__ import annotations

import argparse
import shutil
import time
import uuid
from pathlib import Path

from pyinstrument import Profiler

from survey import create_app

from .generate import generate, post_bodies

__all__ = ["main"]


def _submit(client, bodies: list[str], token: str, count: int, start: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for i in range(start, start + count):
        body = bodies[i % len(bodies)].replace("@ID@", str(uuid.uuid4()), 1)
        resp = client.post("/api/v1/households", data=body, headers=headers)
        if resp.status_code != 201:
            raise RuntimeError(f"submission answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")


def main(argv: list[str] | None = None) -> int:
    """Generate, warm up, time, profile; print the summary."""
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("--size", type=int, default=230000, help="households generated first")
    p.add_argument("--submissions", type=int, default=2000, help="timed, then profiled, submissions")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/profile"))
    p.add_argument("--html", type=Path, help="also write pyinstrument's HTML page here")
    args = p.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    camp = generate(args.workdir, args.size)
    bodies = post_bodies(args.workdir / "bodies.txt")
    client = create_app({"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}).test_client()
    _submit(client, bodies, camp.token, 200, 0)
    wall, cpu = time.perf_counter(), time.process_time()
    _submit(client, bodies, camp.token, args.submissions, 200)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.submissions} submissions at {camp.households:,} households: "
          f"{1000 * wall / args.submissions:.3f} ms wall, {1000 * cpu / args.submissions:.3f} ms CPU each")
    profiler = Profiler(interval=0.001)
    with profiler:
        _submit(client, bodies, camp.token, args.submissions, 200 + args.submissions)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
