"""``python -m bench``: generate, serve, load and probe at each size; print and write the table."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

from survey import create_app

from .generate import generate, post_bodies
from .load import ensure_wrk, post_load
from .probes import Client, after_write, aggregate_path, warm_p50
from .report import SizeResult, render
from .server import Server

LEVELS = ("province", "district", "commune")
OURS = "wsgi:app"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; defaults are the sizes and load of BENCHMARKS.md."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--sizes", default="10000,230000,1000000", help="comma-separated household counts")
    p.add_argument("--seconds", type=float, default=15, help="length of each load run")
    p.add_argument("--connections", type=int, default=16, help="concurrent clients")
    p.add_argument("--baseline-inserts", type=int, default=3, help="timed inserts into the one-file baseline")
    p.add_argument("--repeats", type=int, default=30, help="warm aggregate queries per level")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/work"))
    p.add_argument("--out", type=Path, default=Path("bench/results/table.md"))
    p.add_argument("--keep", action="store_true", help="keep the generated data directories")
    return p.parse_args(argv)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_size(size: int, args: argparse.Namespace) -> SizeResult:
    """Every measurement at one size, on a freshly generated campaign."""
    root = args.workdir / str(size)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    result = SizeResult(size)
    start = time.perf_counter()
    camp = generate(root, size)
    result.households, result.generate_s = camp.households, time.perf_counter() - start
    log(f"{size:,}: generated {camp.households:,} households in {result.generate_s:.1f} s")
    bodies_file = root / "bodies.txt"
    bodies = post_bodies(bodies_file)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    with Server("bench.bare:app", root / "bare.log", env) as bare:
        ceiling = post_load(bare.url, bodies_file, "", args.seconds, args.connections)
    result.ceiling_rps, result.ceiling_p50_ms, result.ceiling_p99_ms = (
        ceiling.per_second, ceiling.p50_ms, ceiling.p99_ms)
    log(f"{size:,}: bare Flask {ceiling.per_second:,.0f}/s")
    peak = measure_service(result, args, root, env, camp.token, bodies, bodies_file)
    result.peak_rss_mb = peak
    measure_baseline(result, args, root, camp.baseline_file, bodies)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return result


def measure_service(result: SizeResult, args, root: Path, env: dict, token: str,
                    bodies: list[str], bodies_file: Path) -> float:
    """Load, cold and warm aggregates, freshness, exports; returns the workers' peak RSS."""
    peaks = []
    with Server(OURS, root / "service.log", env) as server:
        load = post_load(server.url, bodies_file, token, args.seconds, args.connections)
        peaks.append(server.sample_memory())
    result.submit_rps, result.submit_p50_ms, result.submit_p99_ms = (
        load.created / load.seconds, load.p50_ms, load.p99_ms)
    result.submit_failed = load.other + load.socket_errors
    log(f"{result.size:,}: service {result.submit_rps:,.0f} created/s, p99 {load.p99_ms:.1f} ms")
    for level in LEVELS:
        with Server(OURS, root / "service.log", env) as server:
            result.cold_s[level] = Client(server.url, token).get_json(aggregate_path(level))[0]
            peaks.append(server.sample_memory())
    with Server(OURS, root / "service.log", env) as server:
        client = Client(server.url, token)
        for level in LEVELS:
            result.warm_ms[level] = 1000 * warm_p50(client, level, args.repeats)
        fresh = after_write(client, bodies, rounds=20)
        result.after_write_ms, result.fresh = 1000 * fresh.p50_s, f"{fresh.correct}/{fresh.checked}"
        _, data = client.get_json(aggregate_path("province"))
        shown, stored = data["rows"][0]["households"], count_stored(env["SURVEY_DATA_DIR"])
        result.totals_ok = "yes" if shown == stored else f"no ({shown:,} shown, {stored:,} stored)"
        log(f"{result.size:,}: aggregates measured; exporting")
        result.csv_s, size, _ = client.timed_get("/exports/households.csv")
        result.csv_mb = size / 1e6
        result.xlsx_s, size, _ = client.timed_get("/exports/households.xlsx")
        result.xlsx_mb = size / 1e6
        peaks.append(server.sample_memory())
    return max(peaks)


def count_stored(data_dir: str) -> int:
    """Households on disk, counted by the store itself in this process (not by the server)."""
    app = create_app({"SURVEY_DATA_DIR": data_dir, "SECRET_KEY": "bench"})
    camp = app.extensions["survey"]
    return camp.households.count(camp.gazetteer.communes)


def measure_baseline(result: SizeResult, args, root: Path, baseline_file: Path, bodies: list[str]) -> None:
    """A few sequential inserts into the one-file TinyDB design (each rewrites the whole file).

    One worker: that design serialises every write on its single lock anyway, and each
    worker would hold the whole province in memory.
    """
    env = {"BENCH_BASELINE_FILE": str(baseline_file), "SURVEY_WORKERS": "1", "SURVEY_TIMEOUT": "600"}
    with Server("bench.baseline:app", root / "baseline.log", env) as server:
        client = Client(server.url)
        times = [client.post(body)[0] for body in bodies[:args.baseline_inserts]]
    result.baseline_insert_s, result.baseline_inserts = statistics.mean(times), len(times)
    log(f"{result.size:,}: baseline {result.baseline_insert_s:.2f} s per insert")


def conditions(args: argparse.Namespace, started: float) -> str:
    """How and where the table was measured."""
    workers = os.environ.get("SURVEY_WORKERS") or f"{(os.cpu_count() or 1) * 2 + 1} (2 × cores + 1)"
    return (f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()}: "
            f"{os.cpu_count()} cores, Python {platform.python_version()}; gunicorn.conf.py with "
            f"{workers} sync workers on loopback; wrk, {args.connections} connections, 2 threads, "
            f"{args.seconds:g} s per load run, on the same machine; baseline: "
            f"{args.baseline_inserts} sequential inserts, one worker; whole run {time.perf_counter() - started:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    """Run every size, print the table and write it to ``--out``."""
    args = parse_args(argv)
    started = time.perf_counter()
    ensure_wrk()
    results = [run_size(int(size), args) for size in args.sizes.split(",")]
    table = render(results, conditions(args, started))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
