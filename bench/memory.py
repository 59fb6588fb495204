"""``python -m bench.memory``: each gunicorn worker's peak memory through the reads, an import
and a sign-in, on a copy of a data directory generated once (``bench.generate``).

Generating 1,000,000 households takes minutes; this copies a kept data directory instead,
so a change can be measured before and after in a few minutes. Each phase ends with every
worker's VmHWM (peak RSS) and VmRSS from ``/proc/<pid>/status``, so the worker that ran the
import (or the sign-in) is told apart from those that only read.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import requests

from survey import create_app

from .generate import TOKEN_USER, post_bodies
from .phone import login_form
from .probes import LIST_QUERIES, Client, aggregate_path
from .reads import IMPORT_ROWS, PAGES, timed_import
from .server import Server

__all__ = ["worker_memory", "main"]


def worker_memory(server: Server) -> dict[int, tuple[float, float]]:
    """pid -> (VmHWM, VmRSS) in MB of each worker now."""
    out = {}
    for pid in server.workers():
        try:
            fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        except OSError:
            continue
        out[pid] = (int(fields["VmHWM"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024)
    return out


def _reads(client: Client, exports: bool, workers: int) -> None:
    """What the office reads, each path asked often enough that every worker likely answers it."""
    for level in ("province", "district", "commune", "hamlet"):
        for _ in range(2 * workers):
            client.get_json(aggregate_path(level))
    for path in ("/dashboard", *PAGES, *LIST_QUERIES):
        for _ in range(2 * workers):
            client.timed_get(path)
    if exports:
        for path in ("/exports/households.csv", "/exports/households.xlsx"):
            client.timed_get(path)


def _sign_in(url: str) -> int:
    """One sign-in through the login form (scrypt checks the password); its status."""
    return login_form(requests.Session(), url).status_code


def _show(phase: str, memory: dict[int, tuple[float, float]], before: dict[int, tuple[float, float]]) -> None:
    cells = ", ".join(f"{pid}: {hwm:.0f} (+{hwm - before.get(pid, (hwm, 0))[0]:.0f}) / {rss:.0f}"
                      for pid, (hwm, rss) in sorted(memory.items()))
    print(f"{phase:<10} peak {max(h for h, _ in memory.values()):.0f} MB; per worker, peak (+phase) / now: {cells}",
          flush=True)


def main(argv: list[str] | None = None) -> int:
    """Copy the data directory, start the service, run the phases, print each worker's memory."""
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    p.add_argument("--data", type=Path, required=True, help="a data directory made by bench.generate (kept as is)")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/memory"))
    p.add_argument("--submissions", type=int, default=2000, help="households posted first (they leave logs)")
    p.add_argument("--rows", type=int, default=IMPORT_ROWS, help="rows of the CSV import")
    p.add_argument("--no-exports", action="store_true", help="leave the whole-province CSV and XLSX out")
    args = p.parse_args(argv)
    data = args.workdir / "data"
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    shutil.copytree(args.data, data)
    env = {"SURVEY_DATA_DIR": str(data), "SECRET_KEY": "bench"}
    token = create_app(dict(env)).extensions["survey"].users.new_token(TOKEN_USER)
    bodies = post_bodies(args.workdir / "bodies.txt", max(args.submissions, 1))
    with Server("wsgi:app", args.workdir / "service.log", env) as server:
        client, start = Client(server.url, token), worker_memory(server)
        _show("started", start, {})
        for body in bodies[:args.submissions]:
            client.post(body)
        _reads(client, not args.no_exports, len(start))
        reads = worker_memory(server)
        _show("reads", reads, start)
        rows, seconds, created = timed_import(server.url, token, args.rows)
        imported = worker_memory(server)
        _show("import", imported, reads)
        print(f"import: {created:,} of {rows:,} rows created in {seconds:.1f} s", flush=True)
        status = _sign_in(server.url)
        time.sleep(0.2)
        _show(f"sign-in {status}", worker_memory(server), imported)
    return 0


if __name__ == "__main__":
    sys.exit(main())
