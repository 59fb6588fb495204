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

from .databases import BenchDatabases
from .disk import busy_round
from .generate import generate, post_bodies
from .load import LoadResult, ensure_wrk, post_load
from .probes import Client, after_write, aggregate_path, disk_latency, list_p50, warm_p50
from .reads import measure_reads, render_reads
from .report import SizeResult, render
from .server import Server

LEVELS = ("province", "district", "commune")
OURS = "wsgi:app"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; defaults are the sizes and load of BENCHMARKS.md."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--sizes", default=None,
                   help="comma-separated household counts (default 10000,230000,1000000; "
                        "and 5000000 with --backend postgresql)")
    p.add_argument("--backend", choices=("tinydb", "postgresql"), default="tinydb",
                   help="where the service keeps households: the data directory's files, or PostgreSQL")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                   help="postgresql:// URL of a server the benchmark may create databases on "
                        "(default: a throwaway durable cluster started for the run)")
    p.add_argument("--seconds", type=float, default=24, help="load time per server, split into rounds")
    p.add_argument("--rounds", type=int, default=3, help="alternating load rounds (bare, service, ...)")
    p.add_argument("--connections", type=int, default=16, help="concurrent clients")
    p.add_argument("--baseline-inserts", type=int, default=3, help="timed inserts into the one-file baseline")
    p.add_argument("--repeats", type=int, default=30, help="warm aggregate queries per level")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/work"))
    p.add_argument("--out", type=Path, default=Path("bench/results/table.md"))
    p.add_argument("--keep", action="store_true", help="keep the generated data directories")
    p.add_argument("--disk-writer-mbps", type=float, default=128,
                   help="a last submission round while another process writes this many MB/s (0: none)")
    args = p.parse_args(argv)
    if args.sizes is None:
        args.sizes = "10000,230000,1000000" + (",5000000" if args.backend == "postgresql" else "")
    return args


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_size(size: int, args: argparse.Namespace, databases: BenchDatabases | None) -> SizeResult:
    """Every measurement at one size, on a freshly generated campaign."""
    root = args.workdir / str(size)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    result = SizeResult(size)
    start = time.perf_counter()
    url = databases.fresh(size) if databases else None
    camp = generate(root, size, database_url=url)
    result.households, result.generate_s = camp.households, time.perf_counter() - start
    log(f"{size:,}: generated {camp.households:,} households in {result.generate_s:.1f} s")
    bodies_file = root / "bodies.txt"
    bodies = post_bodies(bodies_file)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    if url:
        env["SURVEY_DATABASE_URL"] = url
    peak = measure_submissions(result, args, root, env, camp.token, bodies_file)
    peak = max(peak, measure_service(result, args, root, env, camp.token, bodies))
    result.reads = measure_reads(args, size, root, env, camp.token)
    result.peak_rss_mb = max(peak, result.reads.peak_rss_mb)
    measure_baseline(result, args, root, camp.baseline_file, bodies)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
        if databases:
            databases.drop(size)
    return result


def measure_submissions(result: SizeResult, args, root: Path, env: dict, token: str,
                        bodies_file: Path) -> float:
    """The bare ceiling and the service, both up, loaded in alternating rounds.

    Other work on the machine comes and goes; alternating short rounds exposes both servers
    to the same noise, so their ratio holds even when the absolute figures move.
    """
    result.disk_p50_ms, result.disk_p99_ms = disk_latency(Path(env["SURVEY_DATA_DIR"]))
    bare_runs, our_runs = [], []
    with Server("bench.bare:app", root / "bare.log", env) as bare, \
            Server(OURS, root / "service.log", env) as ours:
        seconds = args.seconds / args.rounds
        for _ in range(args.rounds):
            bare_runs.append(post_load(bare.url, bodies_file, "", seconds, args.connections))
            our_runs.append(post_load(ours.url, bodies_file, token, seconds, args.connections))
        if args.disk_writer_mbps:
            result.busy = busy_round(ours.url, bodies_file, token, seconds, args.connections,
                                     Path(env["SURVEY_DATA_DIR"]), args.disk_writer_mbps)
        peak = ours.sample_memory()
    ceiling, load = combine(bare_runs), combine(our_runs)
    result.ceiling_rps, result.ceiling_p50_ms, result.ceiling_p99_ms = (
        ceiling.requests / ceiling.seconds, ceiling.p50_ms, ceiling.p99_ms)
    result.submit_rps, result.submit_p50_ms, result.submit_p99_ms = (
        load.created / load.seconds, load.p50_ms, load.p99_ms)
    result.submit_failed = load.other + load.socket_errors
    log(f"{result.size:,}: bare Flask {result.ceiling_rps:,.0f}/s; service {result.submit_rps:,.0f} "
        f"created/s, p99 {load.p99_ms:.1f} ms")
    return peak


def combine(runs: list[LoadResult]) -> LoadResult:
    """Rounds added up; latency percentiles are the median of the rounds' percentiles."""
    return LoadResult(requests=sum(r.requests for r in runs), seconds=sum(r.seconds for r in runs),
                      created=sum(r.created for r in runs), other=sum(r.other for r in runs),
                      socket_errors=sum(r.socket_errors for r in runs),
                      p50_ms=statistics.median(r.p50_ms for r in runs),
                      p99_ms=statistics.median(r.p99_ms for r in runs))


def measure_service(result: SizeResult, args, root: Path, env: dict, token: str, bodies: list[str]) -> float:
    """Cold and warm aggregates, freshness, exports; returns the workers' peak RSS."""
    peaks = []
    for level in LEVELS:
        with Server(OURS, root / "service.log", env) as server:
            result.cold_s[level] = Client(server.url, token).get_json(aggregate_path(level))[0]
            peaks.append(server.sample_memory())
    with Server(OURS, root / "service.log", env) as server:
        client = Client(server.url, token)
        for level in LEVELS:
            result.warm_ms[level] = 1000 * warm_p50(client, level, args.repeats)
        result.list_ms = 1000 * list_p50(client, max(1, args.repeats // 4))
        result.dashboard_kb = client.transferred("/dashboard") / 1024
        result.form_kb = client.transferred("/form") / 1024
        log(f"{result.size:,}: household list p50 {result.list_ms:.1f} ms; dashboard "
            f"{result.dashboard_kb:.1f} KB brotli")
        fresh = after_write(client, bodies, rounds=20)
        result.after_write_ms, result.fresh = 1000 * fresh.p50_s, f"{fresh.correct}/{fresh.checked}"
        _, data = client.get_json(aggregate_path("province"))
        shown, stored = data["rows"][0]["households"], count_stored(env)
        result.totals_ok = "yes" if shown == stored else f"no ({shown:,} shown, {stored:,} stored)"
        log(f"{result.size:,}: aggregates measured; exporting")
        result.csv_s, result.csv_mb = timed_export(client, "/exports/households.csv")
        result.xlsx_s, result.xlsx_mb = timed_export(client, "/exports/households.xlsx")
        peaks.append(server.sample_memory())
    return max(peaks)


def timed_export(client: Client, path: str) -> tuple[float, float]:
    """(seconds, MB) of one whole-province download; (-1, 0) if it failed (a worker timeout)."""
    try:
        seconds, size, _ = client.timed_get(path)
    except OSError as exc:
        log(f"{path} failed: {exc}")
        return -1.0, 0.0
    return seconds, size / 1e6


def count_stored(env: dict[str, str]) -> int:
    """Households stored, counted by the store itself in this process (not by the server)."""
    app = create_app(dict(env))
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
    store = ("households in PostgreSQL (same machine, fsync on)" if args.backend == "postgresql"
             else "households in TinyDB files")
    return (f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}, {store}: "
            f"{os.cpu_count()} cores, Python {platform.python_version()}; gunicorn.conf.py with "
            f"{workers} sync workers on loopback; wrk, {args.connections} connections, 2 threads, "
            f"{args.rounds} alternating rounds of {args.seconds / args.rounds:g} s per server "
            f"(bare, service, ...), "
            f"latency percentiles the median of the rounds'; all on the same machine; baseline: "
            f"{args.baseline_inserts} sequential inserts, one worker; "
            f"whole run {time.perf_counter() - started:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    """Run every size, print the table and write it to ``--out``."""
    args = parse_args(argv)
    started = time.perf_counter()
    ensure_wrk()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results: list[SizeResult] = []
    with BenchDatabases.for_backend(args.backend, args.database_url) as databases:
        for size in args.sizes.split(","):
            results.append(run_size(int(size), args, databases))
            table = render(results, conditions(args, started)) + render_reads([r.size for r in results],
                                                                             [r.reads for r in results])
            args.out.write_text(table, encoding="utf-8")  # kept size by size, should a later one fail
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
