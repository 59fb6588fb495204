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

from .cpu import metered
from .databases import BenchDatabases
from .disk import busy_round
from .generate import generate, post_bodies
from .growth import GrowthResult, Kept, measure_growth, render_growth
from .load import LoadResult, ensure_wrk, post_load
from .phone import phone_load, signed_in
from .probes import Client, after_write, aggregate_path, count_stored, disk_latency, list_p50, warm_p50
from .reads import measure_reads, render_reads
from .report import NAMES, SizeResult, column, render
from .server import Server

LEVELS = ("province", "district", "commune")
OURS = "wsgi:app"


BACKENDS = ("tinydb", "postgresql")
DEFAULT_SIZES = {"tinydb": "10000,230000,1000000", "postgresql": "10000,230000,1000000,5000000"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; defaults are the sizes and load of BENCHMARKS.md."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--sizes", default=None,
                   help="comma-separated household counts for every backend (default 10000,230000,1000000; "
                        "and 5000000 on PostgreSQL)")
    for name in BACKENDS:
        p.add_argument(f"--{name}-sizes", default=None, help=f"the sizes on {name} alone (overrides --sizes)")
    p.add_argument("--backend", default="tinydb",
                   help="where the service keeps households: tinydb (the data directory's files), postgresql, "
                        "or both (tinydb,postgresql: each size on one then the other, one table side by side)")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                   help="postgresql:// URL of a server the benchmark may create databases on "
                        "(default: a throwaway durable cluster started for the run)")
    p.add_argument("--seconds", type=float, default=24, help="load time per server, split into rounds")
    p.add_argument("--rounds", type=int, default=3,
                   help="alternating load rounds (bare, service by token, service as the phone, ...)")
    p.add_argument("--connections", type=int, default=16, help="concurrent clients")
    p.add_argument("--baseline-inserts", type=int, default=3, help="timed inserts into the one-file baseline")
    p.add_argument("--baseline-max", type=int, default=1_000_000,
                   help="largest size the one-file baseline is measured at (it holds the province in memory)")
    p.add_argument("--repeats", type=int, default=30, help="warm aggregate queries per level")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/work"))
    p.add_argument("--out", type=Path, default=Path("bench/results/table.md"))
    p.add_argument("--keep", action="store_true", help="keep the generated data directories")
    p.add_argument("--disk-writer-mbps", type=float, default=128,
                   help="a last submission round while another process writes this many MB/s (0: none)")
    args = p.parse_args(argv)
    args.backends = backends(p, args.backend)
    args.plan = plan(args)
    return args


def backends(parser: argparse.ArgumentParser, given: str) -> tuple[str, ...]:
    """``tinydb``, ``postgresql``, ``both`` or a comma-separated list, in the order of BACKENDS."""
    names = set(BACKENDS) if given.strip() == "both" else {n.strip() for n in given.split(",") if n.strip()}
    unknown = names - set(BACKENDS)
    if unknown or not names:
        parser.error(f"--backend: {', '.join(sorted(unknown)) or 'nothing'} is not one of tinydb, postgresql, both")
    return tuple(n for n in BACKENDS if n in names)


def plan(args: argparse.Namespace) -> list[tuple[int, str]]:
    """(size, backend) in the order they run: by size, each size on every backend in turn, so
    the backends of one size are measured minutes apart, under the same load from the rest."""
    runs = set()
    for name in args.backends:
        sizes = getattr(args, f"{name}_sizes") or args.sizes or DEFAULT_SIZES[name]
        runs.update((int(size), name) for size in sizes.split(",") if size.strip())
    return sorted(runs, key=lambda run: (run[0], BACKENDS.index(run[1])))


def log(message: str) -> None:
    """Progress on stderr, so that stdout holds only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def growth_pairs(plan: list[tuple[int, str]]) -> dict[str, tuple[int, int]]:
    """Each backend run at two sizes or more: (its smallest size, its largest)."""
    sizes: dict[str, list[int]] = {}
    for size, backend in plan:
        sizes.setdefault(backend, []).append(size)
    return {b: (min(s), max(s)) for b, s in sizes.items() if len(set(s)) > 1}


def run_size(size: int, backend: str, args: argparse.Namespace, databases: BenchDatabases | None,
             baseline: SizeResult | None = None, keep: list[Kept] | None = None) -> SizeResult:
    """Every measurement at one size on one backend, on a freshly generated campaign; the
    one-file baseline (the same whatever the backend) is taken from ``baseline`` if given.
    With ``keep``, the campaign stays (for the growth phase) and is appended to it."""
    root = args.workdir / backend / str(size)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    result = SizeResult(size, backend=backend)
    start = time.perf_counter()
    url = databases.fresh(size) if backend == "postgresql" and databases else None
    with_baseline = baseline is None and size <= args.baseline_max
    camp = generate(root, size, database_url=url, baseline=with_baseline)
    result.households, result.generate_s = camp.households, time.perf_counter() - start
    os.sync()  # the generated files reach the disk now, not under the rounds' fdatasync (0.5 GB at 1,000,000)
    log(f"{size:,} {backend}: generated {camp.households:,} households in {result.generate_s:.1f} s")
    bodies_file = root / "bodies.txt"
    bodies = post_bodies(bodies_file)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    if url:
        env["SURVEY_DATABASE_URL"] = url
    result.submit_peak_mb = measure_submissions(result, args, root, env, camp.token, bodies_file)
    result.service_peak_mb = measure_service(result, args, root, env, camp.token, bodies)
    result.reads = measure_reads(args, size, root, env, camp.token)
    result.peak_rss_mb = max(result.submit_peak_mb, result.service_peak_mb, result.reads.peak_rss_mb)
    if with_baseline:
        measure_baseline(result, args, root, camp.baseline_file, bodies)
    elif baseline is not None:
        result.baseline_insert_s, result.baseline_inserts = baseline.baseline_insert_s, baseline.baseline_inserts
    if keep is not None:
        keep.append(Kept(root, env, camp.token))
    elif not args.keep:
        discard(root, size, databases if url else None)
    return result


def discard(root: Path, size: int, databases: BenchDatabases | None) -> None:
    """Remove a campaign's files, and its database if it has one."""
    shutil.rmtree(root, ignore_errors=True)
    if databases:
        databases.drop(size)


def run_growth(backend: str, sizes: tuple[int, int], large: Kept, args: argparse.Namespace,
               databases: BenchDatabases | None) -> GrowthResult:
    """The growth phase of one backend: a fresh campaign of its smallest size beside the kept
    largest one (see ``bench/growth.py``); both removed afterwards unless ``--keep``."""
    small_size, large_size = sizes
    root = args.workdir / backend / f"growth-{small_size}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    url = databases.fresh(small_size) if backend == "postgresql" and databases else None
    camp = generate(root, small_size, database_url=url, baseline=False)
    os.sync()
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    if url:
        env["SURVEY_DATABASE_URL"] = url
    log(f"growth {backend}: {small_size:,} generated again; both sizes loaded in alternating rounds")
    try:
        result = measure_growth(args, backend, Kept(root, env, camp.token), large, small_size, large_size)
    finally:
        if not args.keep:
            discard(root, small_size, databases if url else None)
            discard(large.root, large_size, databases if url else None)
    sub = result.loads[0]
    log(f"growth {backend}: submissions p50 ×{sub.growth()[0]:.2f}, p99 ×{sub.growth()[1]:.2f}")
    return result


def measure_submissions(result: SizeResult, args, root: Path, env: dict, token: str,
                        bodies_file: Path) -> float:
    """The bare ceiling and the service, both up, loaded in alternating rounds: bare, the
    service by bearer token, then the service as the officers' phones send the same bodies.

    Other work on the machine comes and goes; alternating short rounds exposes both servers
    to the same noise, so their ratio holds even when the absolute figures move.
    """
    result.disk_p50_ms, result.disk_p99_ms = disk_latency(Path(env["SURVEY_DATA_DIR"]))
    bare_runs, our_runs, phone_runs = [], [], []
    database_url = env.get("SURVEY_DATABASE_URL")
    with Server("bench.bare:app", root / "bare.log", env) as bare, \
            Server(OURS, root / "service.log", env) as ours:
        phone = signed_in(ours)  # once the server is up, through its login page
        seconds = args.seconds / args.rounds
        for _ in range(args.rounds):
            with metered(result.bare_cpu, bare.workers, None):
                bare_runs.append(post_load(bare.url, bodies_file, "", seconds, args.connections))
            with metered(result.submit_cpu, ours.workers, database_url):
                our_runs.append(post_load(ours.url, bodies_file, token, seconds, args.connections))
            phone_runs.append(phone_load(ours.url, bodies_file, phone, seconds, args.connections))
        if args.disk_writer_mbps:
            result.busy = busy_round(ours.url, bodies_file, token, seconds, args.connections,
                                     Path(env["SURVEY_DATA_DIR"]), args.disk_writer_mbps)
        peak = ours.sample_memory()
    ceiling, load, phoned = combine(bare_runs), combine(our_runs), combine(phone_runs)
    result.submit_round_shares = round_shares(our_runs, bare_runs)
    result.phone_round_shares = round_shares(phone_runs, bare_runs)
    result.bare_cpu.requests, result.submit_cpu.requests = ceiling.requests, load.requests
    result.ceiling_rps, result.ceiling_p50_ms, result.ceiling_p99_ms = (
        ceiling.requests / ceiling.seconds, ceiling.p50_ms, ceiling.p99_ms)
    result.submit_rps, result.submit_p50_ms, result.submit_p99_ms = (
        load.created / load.seconds, load.p50_ms, load.p99_ms)
    result.submit_failed = load.other + load.socket_errors
    result.phone_rps, result.phone_p50_ms, result.phone_p99_ms = (
        phoned.created / phoned.seconds, phoned.p50_ms, phoned.p99_ms)
    result.phone_failed = phoned.other + phoned.socket_errors
    log(f"{result.size:,} {result.backend}: bare Flask {result.ceiling_rps:,.0f}/s; service {result.submit_rps:,.0f} "
        f"created/s, p99 {load.p99_ms:.1f} ms; as the phone sends them {result.phone_rps:,.0f} created/s, "
        f"p99 {phoned.p99_ms:.1f} ms, {result.phone_failed:,} not 201")
    return peak


def round_shares(runs: list[LoadResult], ceilings: list[LoadResult]) -> list[float]:
    """Each round's created/s as a percentage of the bare round just before it."""
    return [100 * run.created / run.seconds / (bare.requests / bare.seconds) if bare.requests else 0.0
            for run, bare in zip(runs, ceilings)]


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
        log(f"{result.size:,} {result.backend}: household list p50 {result.list_ms:.1f} ms; dashboard "
            f"{result.dashboard_kb:.1f} KB brotli")
        fresh = after_write(client, bodies, rounds=20)
        result.after_write_ms, result.fresh = 1000 * fresh.p50_s, f"{fresh.correct}/{fresh.checked}"
        _, data = client.get_json(aggregate_path("province"))
        shown, stored = data["rows"][0]["households"], count_stored(env)
        result.totals_ok = "yes" if shown == stored else f"no ({shown:,} shown, {stored:,} stored)"
        log(f"{result.size:,} {result.backend}: aggregates measured; exporting")
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
    log(f"{result.size:,} {result.backend}: baseline {result.baseline_insert_s:.2f} s per insert")


def conditions(args: argparse.Namespace, started: float) -> str:
    """How and where the table was measured."""
    workers = os.environ.get("SURVEY_WORKERS") or f"{(os.cpu_count() or 1) * 2 + 1} (2 × cores + 1)"
    stores = {"tinydb": "households in TinyDB files", "postgresql": "households in PostgreSQL (same machine, fsync on)"}
    store = " and ".join(stores[b] for b in args.backends)
    if len(args.backends) > 1:
        store += ", each size on one backend then the other"
    return (f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}, {store}: "
            f"{os.cpu_count()} cores, Python {platform.python_version()}; gunicorn.conf.py with "
            f"{workers} sync workers on loopback; wrk, {args.connections} connections, 2 threads, "
            f"{args.rounds} alternating rounds of {args.seconds / args.rounds:g} s per server "
            f"(bare, service by bearer token, service as the phone sends it, ...), "
            f"latency percentiles the median of the rounds'; all on the same machine; baseline: "
            f"{args.baseline_inserts} sequential inserts, one worker, once per size up to "
            f"{args.baseline_max:,} households; whole run {time.perf_counter() - started:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    """Run every size on every backend asked for, print the table and write it to ``--out``."""
    args = parse_args(argv)
    started = time.perf_counter()
    ensure_wrk()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results: list[SizeResult] = []
    growths: list[GrowthResult] = []
    pairs = growth_pairs(args.plan)
    with BenchDatabases.for_backend(args.backends, args.database_url) as databases:
        for size, backend in args.plan:
            earlier = next((r for r in results if r.size == size and r.baseline_inserts), None)
            last = pairs.get(backend, (0, 0))[1] == size
            kept: list[Kept] = []
            results.append(run_size(size, backend, args, databases, baseline=earlier, keep=kept if last else None))
            if last:
                growths.append(run_growth(backend, pairs[backend], kept[0], args, databases))
            table = render(results, conditions(args, started)) + render_reads(
                [column(r, args.backends) for r in results], [r.reads for r in results]) + render_growth(
                growths, NAMES, args)
            args.out.write_text(table, encoding="utf-8")  # kept size by size, should a later one fail
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
