"""A small run of the benchmark: it works end to end and writes a sane table (no timings checked)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.server
@pytest.mark.parametrize("backend", ["tinydb", "postgresql"])
def test_a_small_benchmark_run_writes_a_sane_table(tmp_path, backend, request):
    if not shutil.which("wrk") and os.geteuid() != 0:
        pytest.skip("wrk is not installed and cannot be installed without root")
    out = tmp_path / "table.md"
    cmd = [sys.executable, "-m", "bench", "--sizes", "2000", "--seconds", "2", "--rounds", "1",
           "--baseline-inserts", "1", "--repeats", "3", "--disk-writer-mbps", "4", "--workdir", str(tmp_path / "work"), "--out", str(out),
           "--backend", backend]
    if backend == "postgresql":
        cmd += ["--database-url", request.getfixturevalue("database_url")]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text(encoding="utf-8")
    assert table in done.stdout
    rows = {line.split(" | ")[0].lstrip("| "): line.rstrip(" |").split(" | ")[-1]
            for line in table.splitlines() if line.startswith("| ")}
    assert int(rows["households stored (generated)"].replace(",", "")) in range(1900, 2100)
    assert float(rows["durable submissions/s (201)"].replace(",", "")) > 0
    assert rows["submissions not answered 201"] == "0"
    assert float(rows["busy disk: durable submissions/s (201)"].replace(",", "")) > 0  # the writer's round ran
    assert rows["busy disk: another process writing (MB/s, fdatasync per 256 KB)"] == "4"
    assert rows["totals right after a write (correct/checked)"] == "20/20"
    assert rows["province totals = stored households"] == "yes"
    assert float(rows["filtered household list, warm p50 (ms)"]) > 0
    assert 0 < float(rows["Department dashboard, brotli (KB)"]) < 60
    assert 0 < float(rows["form page, brotli (KB)"]) < 25
    for case in ("department, province", "department, hamlet", "district, commune", "officer, hamlet"):
        assert float(rows[case].split()[0].replace(",", "")) > 0 and "not 200" not in rows[case], case
    assert rows["import of a CSV, upload to done (s)"].endswith("(1,500 of 1,500 rows)")
    assert "failed" not in table and "Measured" in table
    assert ("households in PostgreSQL" in table) == (backend == "postgresql")
    assert not (tmp_path / "work" / "2000").exists()  # data removed unless --keep
