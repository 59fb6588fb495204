"""A small run of the benchmark: it works end to end and writes a sane table (no timings checked)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from argparse import Namespace
from dataclasses import replace
from pathlib import Path

import pytest

from bench.__main__ import growth_pairs, round_shares, run_growth
from bench.cpu import CpuSplit, database_pids, is_local_address, metered, server_pids
from bench.generate import generate, post_bodies
from bench.growth import GrowthLoad, Kept, render_growth
from bench.load import LoadResult
from bench.phone import phone_load, signed_in
from bench.report import ROWS, SizeResult
from bench.server import Server

ROOT = Path(__file__).resolve().parent.parent
PHONE = "submissions, as the phone sends them (session cookie + CSRF)"


def _need_wrk() -> None:
    if not shutil.which("wrk") and os.geteuid() != 0:
        pytest.skip("wrk is not installed and cannot be installed without root")


def _columns(table: str) -> dict[str, list[str]]:
    """Each row of the Markdown tables by its label: its cells after the label (and target)."""
    rows = {}
    for line in table.splitlines():
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.server
@pytest.mark.parametrize("backend", ["tinydb", "postgresql", "both"])
def test_a_small_benchmark_run_writes_a_sane_table(tmp_path, backend, request):
    _need_wrk()
    out = tmp_path / "table.md"
    cmd = [sys.executable, "-m", "bench", "--sizes", "2000", "--seconds", "2", "--rounds", "2",
           "--baseline-inserts", "1", "--repeats", "3", "--disk-writer-mbps", "4", "--workdir", str(tmp_path / "work"),
           "--out", str(out), "--backend", backend]
    if backend != "tinydb":
        cmd += ["--database-url", request.getfixturevalue("database_url")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text(encoding="utf-8")
    assert table in done.stdout
    rows = _columns(table)
    names = {"tinydb": ["2,000"], "postgresql": ["2,000"], "both": ["TinyDB 2,000", "PostgreSQL 2,000"]}[backend]
    assert rows["measure"] == ["target", *names] and rows["aggregates, 16 connections"] == names
    url = request.getfixturevalue("database_url") if backend != "tinydb" else None
    for n, name in enumerate(names):
        on_postgres = backend == "postgresql" or name.startswith("PostgreSQL")
        _sane(rows, n, local_database=on_postgres and bool(database_pids(url)))
    if backend == "both":  # one baseline per size, whatever keeps the households
        assert len(set(rows["one-file TinyDB baseline: s per insert"][1:])) == 1
    assert "failed" not in table and "Measured" in table
    assert ("households in PostgreSQL" in table) == (backend != "tinydb")
    assert ("households in TinyDB files" in table) == (backend != "postgresql")
    assert not list((tmp_path / "work").glob("*/2000"))  # data removed unless --keep


def _sane(rows: dict[str, list[str]], n: int, local_database: bool) -> None:
    """Column ``n`` of a run at 2,000 households: every round ran and answered as it should;
    with ``local_database``, the database server's CPU is counted (it runs on this machine)."""
    width = len(rows["aggregates, 16 connections"])  # the reads' rows have no target cell
    row = {label: cells[n + 1] if len(cells) == width + 1 else cells[n]
           for label, cells in rows.items() if label not in ("measure", "aggregates, 16 connections")}
    assert int(row["households stored (generated)"].replace(",", "")) in range(1900, 2100)
    assert float(row["durable submissions/s (201)"].replace(",", "")) > 0
    assert row["submissions not answered 201"] == "0"
    cpu = "CPU per request (ms): server workers / database / whole machine; "
    bare_workers, bare_db, bare_machine = row[cpu + "bare Flask"].split(" / ")
    workers, database, machine = row[cpu + "submissions"].split(" / ")
    assert 0 < float(bare_workers) <= float(bare_machine) and bare_db == "-"
    assert 0 < float(workers) < float(machine)
    assert (database != "-") == local_database
    assert not local_database or 0 < float(database) < float(machine)
    assert float(row[f"{PHONE}: created/s (201)"].replace(",", "")) > 0  # signed in, cookie and CSRF accepted
    assert row[f"{PHONE}: not answered 201"] == "0"
    for label in ("share of the ceiling", f"{PHONE}: share of the ceiling"):
        share, low, high = map(float, re.fullmatch(r"(\d+)% \(rounds (\d+)–(\d+)%\)", row[label]).groups())
        assert 0 < low <= high and low - 1 <= share <= high + 1, row[label]  # two rounds, each its own share
    assert float(row["busy disk: durable submissions/s (201)"].replace(",", "")) > 0  # the writer's round ran
    assert row["busy disk: another process writing (MB/s, fdatasync per 256 KB)"] == "4"
    assert row["totals right after a write (correct/checked)"] == "20/20"
    assert row["province totals = stored households"] == "yes"
    assert float(row["filtered household list, warm p50 (ms)"]) > 0
    assert 0 < float(row["Department dashboard, brotli (KB)"]) < 60
    assert 0 < float(row["form page, brotli (KB)"]) < 25
    assert float(row["one-file TinyDB baseline: s per insert"].split()[0]) > 0
    for case in ("department, province", "department, hamlet", "district, commune", "officer, hamlet"):
        assert float(row[case].split()[0].replace(",", "")) > 0 and "not 200" not in row[case], case
    assert row["import of a CSV, upload to done (s)"].endswith("(1,500 of 1,500 rows)")


@pytest.mark.server
def test_the_cpu_of_the_processes_named_and_of_the_machine_is_counted():
    burn = "import time\ntime.sleep(0.3)\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\ntime.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", burn])
    try:
        time.sleep(0.2)  # started: its own start-up is not the block's
        split = CpuSplit(requests=4)
        with metered(split, lambda: [child.pid], None):
            time.sleep(1.2)
    finally:
        child.kill()
        child.wait()
    assert 0.35 <= split.workers_s <= 0.6 and split.database_s == 0 and split.machine_s >= split.workers_s - 0.05
    workers, database, machine = split.render().split(" / ")
    assert 87 <= float(workers) <= 150 and database == "-" and float(machine) >= float(workers) - 13


def test_each_round_is_a_share_of_the_bare_round_beside_it_and_the_row_shows_their_spread():
    bare = [LoadResult(4000, 8.0, 0, 0, 0, 1, 2), LoadResult(3000, 8.0, 0, 0, 0, 1, 2)]
    ours = [LoadResult(1000, 8.0, 980, 20, 0, 1, 2), LoadResult(1000, 8.0, 1000, 0, 0, 1, 2)]
    assert round_shares(ours, bare) == [24.5, 100 * 1000 / 3000]  # created, not answered, count
    result = SizeResult(230_000, ceiling_rps=7000 / 16, submit_rps=1980 / 16, submit_round_shares=round_shares(ours, bare))
    share = next(cell for label, _, cell in ROWS if label == "share of the ceiling")
    assert share(result) == "28% (rounds 24–33%)"
    assert share(replace(result, submit_round_shares=[28.3])) == "28%"  # one round: no spread


def _addresses_held_here() -> set[str]:
    """The IPv4 addresses this machine's interfaces hold, as the kernel lists them."""
    held, last = set(), None
    for line in Path("/proc/net/fib_trie").read_text().splitlines():
        if "|--" in line:
            last = line.split()[-1]
        elif "host LOCAL" in line and last:
            held.add(last)
    return held


def test_a_database_server_is_counted_only_where_it_runs_here():
    """A remote server's backend pid may well be a process here: counting that process's CPU
    as the database's would make a remote database look cheap. Only a Unix socket, loopback
    or an address of this machine makes a server local, and only PostgreSQL's processes count."""
    held = _addresses_held_here()
    assert "127.0.0.1" in held
    for address in held:
        assert is_local_address(address), address
    assert is_local_address(None) and is_local_address("::1")
    elsewhere = "203.0.113.7"  # TEST-NET-3: documentation only, never an interface's
    assert elsewhere not in held and not is_local_address(elsewhere) and not is_local_address("2001:db8::7")
    assert server_pids(os.getpid(), elsewhere) == []  # a live process here, but the server is not
    assert server_pids(os.getpid(), None) == []  # a local process that is no PostgreSQL server


@pytest.mark.server
def test_the_processes_of_the_database_server_here_are_found(database_url):
    pids = database_pids(database_url)
    postmaster, children = pids[0], pids[1:]
    assert Path(f"/proc/{postmaster}/comm").read_text().startswith("postgres")
    alive = 0
    for pid in children:  # a backend whose client just left may be gone already
        try:
            comm, stat = Path(f"/proc/{pid}/comm").read_text(), Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        assert comm.startswith("postgres") and stat.rsplit(")", 1)[1].split()[1] == str(postmaster), pid
        alive += 1
    assert alive, "a running server has its background processes (checkpointer, writer, ...)"


def test_the_phone_round_signs_in_and_counts_every_answer_but_201_as_a_failure(tmp_path):
    """The phone's round is measured only if its requests are accepted as the phone's are: a
    stale CSRF token or a cookie from nowhere must show up as failures, not as throughput; and
    the one sign-in before it does not count in the submissions' peak memory."""
    _need_wrk()
    camp = generate(tmp_path, 300, baseline=False)
    bodies = tmp_path / "bodies.txt"
    post_bodies(bodies, count=300)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    with Server("wsgi:app", tmp_path / "service.log", env) as server:
        before = server.sample_memory()
        phone = signed_in(server)
        assert server.sample_memory() < before + 16  # the sign-in's scrypt (32 MB) is left out of the peak
        good = phone_load(server.url, bodies, phone, 1, 4)
        stale = phone_load(server.url, bodies, replace(phone, csrf_token="stale"), 1, 4)
        stranger = phone_load(server.url, bodies, replace(phone, cookie="not-signed"), 1, 4)
    assert good.created > 0 and good.other == good.socket_errors == 0
    for refused in (stale, stranger):
        assert refused.requests > 0 and refused.created == 0 and refused.other == refused.requests


def test_the_profile_times_both_paths_for_both_shapes(tmp_path, capsys):
    """``python -m bench.profile --paths``: every submission of every round answered 201 (it
    raises otherwise), a line per shape comparing Flask with the lean path, and one for the
    WSGI callables called alone, the app's and bare Flask's."""
    from bench.profile import main
    assert main(["--size", "300", "--submissions", "20", "--paths", "5", "--workdir", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    for shape in ("token", "phone"):
        line = next(text for text in out.splitlines() if text.startswith(f"{shape}: "))
        assert "through Flask" in line and "with the lean path" in line
    direct = re.search(r"WSGI callable alone: ([0-9.]+) ms CPU per submission by token, bare Flask's endpoint "
                       r"([0-9.]+) ms", out)
    assert direct and float(direct[1]) > float(direct[2]) > 0  # validating and storing costs more than echoing
    assert "Recorded:" in out  # pyinstrument's tree follows


def test_growth_pairs_the_smallest_and_largest_size_of_each_backend_run_at_two_sizes():
    plan = [(10_000, "tinydb"), (230_000, "tinydb"), (230_000, "postgresql"), (1_000_000, "tinydb"),
            (5_000_000, "postgresql")]
    assert growth_pairs(plan) == {"tinydb": (10_000, 1_000_000), "postgresql": (230_000, 5_000_000)}
    assert growth_pairs([(2000, "tinydb"), (2000, "postgresql")]) == {}  # one size each: nothing to compare


@pytest.mark.server
def test_the_growth_phase_serves_a_fresh_small_campaign_beside_the_kept_large_one(tmp_path):
    """Both campaigns loaded in the same rounds, every answer 201 or 200, both removed after,
    and a table row per measure whose growth is the two campaigns' own figures divided."""
    _need_wrk()
    large_root = tmp_path / "tinydb" / "1500"
    large_root.mkdir(parents=True)
    camp = generate(large_root, 1500, baseline=False)
    post_bodies(large_root / "bodies.txt", count=300)
    large = Kept(large_root, {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}, camp.token)
    args = Namespace(seconds=2, rounds=2, connections=4, workdir=tmp_path, keep=False)
    result = run_growth("tinydb", (300, 1500), large, args, None)
    assert (result.small_size, result.large_size) == (300, 1500)
    assert result.small_households in range(250, 350) and result.large_households in range(1400, 1600)
    assert [load.name for load in result.loads] == ["submissions", *(f"Department's aggregates, {level}"
                                                                        for level in ("province", "district",
                                                                                      "commune", "hamlet"))]
    for load in result.loads:
        assert len(load.small) == len(load.large) == 2 and load.not_ok() == 0, load.name
        assert all(run.created > 0 for run in load.small + load.large), load.name
    assert len(result.ceiling) == 2 and all(run.requests > 0 for run in result.ceiling)
    assert not large_root.exists() and not (tmp_path / "tinydb" / "growth-300").exists()
    table = render_growth([result], {"tinydb": "TinyDB"}, args)
    rows = [line for line in table.splitlines() if line.startswith("| ") and "measure" not in line]
    assert len(rows) == 5
    sub = result.loads[0]
    cells = rows[0].strip("|").split(" | ")
    assert cells[0].strip() == "submissions" and cells[4].strip() == "0"
    assert cells[3].startswith(f"×{sub.p50('large') / sub.p50('small'):.2f} (")
    assert cells[1] == f"{sub.rate('small'):,.0f}, {sub.p50('small'):.1f} / {sub.p99('small'):.1f}"


def test_growth_is_the_large_campaigns_median_latency_over_the_small_ones():
    def run(p50: float, p99: float, created: int = 100) -> LoadResult:
        return LoadResult(100, 1.0, created, 100 - created, 0, p50, p99)
    load = GrowthLoad("submissions", [run(4, 10), run(5, 12), run(6, 30)], [run(6, 20), run(5, 15), run(8, 24)])
    assert load.growth() == (6 / 5, 20 / 12)
    assert load.round_growth() == [1.5, 1.0, 8 / 6]
    assert load.not_ok() == 0 and load.rate("small") == 100
    assert GrowthLoad("x", [run(1, 1, created=97)], [run(1, 1)]).not_ok() == 3


@pytest.mark.server
def test_the_durability_run_serves_the_ceiling_the_service_and_both_flush_variants(tmp_path, capsys):
    """``python -m bench.durability``: four servers loaded in turn, a row each, every service
    row with acknowledged submissions and its CPU counted, and the disk's flush floor."""
    _need_wrk()
    from bench.durability import main
    assert main(["--size", "300", "--rounds", "1", "--seconds", "1", "--connections", "4",
                 "--workdir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"fdatasync on this disk, alone: p50 [0-9.]+ ms, p99 [0-9.]+ ms", out)
    rows = _columns(out)
    names = ["bare Flask endpoint (ceiling)", "the service", "the service, fdatasync a no-op",
             "the service, fdatasync a 100 µs sleep"]
    assert [name for name in rows if name in names] == names
    assert rows[names[0]][1].startswith("100.0%")
    for name in names:
        per_s, share, latency, cpu, waits = rows[name]
        assert float(per_s.replace(",", "")) > 0 and float(share.split("%")[0]) > 0
        assert all(float(ms) > 0 for ms in latency.split(" / ") + cpu.split(" / "))
        assert float(waits) > 0  # a sync worker waits for every connection it accepts
    # a flush made a no-op never blocks; the real one, or its bare sleep, blocks at least once
    no_flush = float(rows[names[2]][4])
    assert float(rows[names[1]][4]) > no_flush + 0.5 and float(rows[names[3]][4]) > no_flush + 0.5


@pytest.mark.parametrize("variant, slept", [("none", False), ("wait", True)])
def test_a_flush_variant_replaces_fdatasync_in_the_served_app(tmp_path, variant, slept):
    """The variant app's workers flush nothing, or only sleep: a no-op returns at once and
    the sleep takes at least the microseconds asked for; the file is not flushed either way
    (the call returns without touching it, so even a closed descriptor is accepted)."""
    code = ("import os, time; import bench.flush_variants as v; t = time.perf_counter(); os.fdatasync(999); "
            "print(time.perf_counter() - t, os.fdatasync.__name__)")
    env = {**os.environ, "SURVEY_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t",
           "SURVEY_BENCH_FLUSH": variant, "SURVEY_BENCH_WAIT_US": "20000"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    took, name = out.stdout.split()
    assert name == ("wait" if slept else "_no_flush")
    assert (float(took) >= 0.02) is slept


def test_a_flush_variant_not_named_stops_the_app_with_the_choices(tmp_path):
    env = {**os.environ, "SURVEY_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t", "SURVEY_BENCH_FLUSH": "fast"}
    out = subprocess.run([sys.executable, "-c", "import bench.flush_variants"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "SURVEY_BENCH_FLUSH must be one of none, wait, not 'fast'" in out.stderr


@pytest.mark.server
def test_the_event_loop_run_serves_both_servers_both_ways_without_a_failure(tmp_path, capsys):
    """``python -m bench.event_loop``: gunicorn and the prototype loop, bare and the service,
    a row each with answers, no answer but 201, and each row's shares of both ceilings."""
    _need_wrk()
    from bench.event_loop import main
    assert main(["--size", "300", "--rounds", "1", "--seconds", "1", "--connections", "4",
                 "--workdir", str(tmp_path / "e")]) == 0
    rows = _columns(capsys.readouterr().out)
    names = ["bare Flask, gunicorn (the ceiling)", "the service, gunicorn", "bare Flask, event loop",
             "the service, event loop, one journal flush per process every 1 ms at most"]
    assert [name for name in rows if name in names] == names
    for name in names:
        per_s, of_gunicorn, of_own, latency, cpu, waits, failed = rows[name]
        assert float(per_s.replace(",", "")) > 0 and failed == "0"
        assert float(of_gunicorn.split("%")[0]) > 0 and float(of_own.split("%")[0]) > 0
    assert rows[names[0]][1].startswith("100.0%") and rows[names[2]][2].startswith("100.0%")


@pytest.mark.server
def test_the_loop_prototype_answers_each_submission_after_its_journal_line(tmp_path):
    """Each 201 of the prototype's service wrote one line to its process's journal (the
    flushing thread's ``fdatasync`` covers it before the answer goes out); the requests
    still open when wrk stopped (one per connection at most) wrote theirs unanswered."""
    _need_wrk()
    from bench.event_loop import LoopServer
    from bench.load import post_load
    from bench.loop_server import LINE
    camp = generate(tmp_path, 300, baseline=False)
    bodies = tmp_path / "bodies.txt"
    post_bodies(bodies)
    env = {"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}
    journal = tmp_path / "journal"
    server = LoopServer("wsgi:app", tmp_path / "loop.log", env, 2, journal=journal, delay_ms=1).start()
    try:
        run = post_load(server.url, bodies, camp.token, 1, 4)
    finally:
        server.stop()
    assert run.created > 0 and run.other == run.socket_errors == 0
    lines, rest = divmod(sum(path.stat().st_size for path in tmp_path.glob("journal.*")), len(LINE))
    assert rest == 0 and run.created <= lines <= run.created + 4
