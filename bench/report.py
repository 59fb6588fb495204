"""The results table: one column per size, one row per measure, targets beside them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cpu import CpuSplit
from .disk import BusyDisk

__all__ = ["NAMES", "SizeResult", "column", "render"]

NAMES = {"tinydb": "TinyDB", "postgresql": "PostgreSQL"}


@dataclass
class SizeResult:
    """Everything measured at one size on one backend."""

    size: int
    backend: str = "tinydb"
    households: int = 0
    generate_s: float = 0.0
    ceiling_rps: float = 0.0
    ceiling_p50_ms: float = 0.0
    ceiling_p99_ms: float = 0.0
    submit_rps: float = 0.0
    submit_p50_ms: float = 0.0
    submit_p99_ms: float = 0.0
    submit_failed: int = 0
    phone_rps: float = 0.0  # the same submissions as the phone sends them: session cookie + CSRF
    phone_p50_ms: float = 0.0
    phone_p99_ms: float = 0.0
    phone_failed: int = 0
    # each round's share of the bare ceiling of the round just before it: how far noise moves a share
    submit_round_shares: list[float] = field(default_factory=list)
    phone_round_shares: list[float] = field(default_factory=list)
    disk_p50_ms: float = 0.0
    disk_p99_ms: float = 0.0
    baseline_insert_s: float = 0.0
    baseline_inserts: int = 0
    cold_s: dict[str, float] = field(default_factory=dict)
    warm_ms: dict[str, float] = field(default_factory=dict)
    after_write_ms: float = 0.0
    fresh: str = ""
    csv_s: float = 0.0
    csv_mb: float = 0.0
    xlsx_s: float = 0.0
    xlsx_mb: float = 0.0
    peak_rss_mb: float = 0.0
    submit_peak_mb: float = 0.0
    service_peak_mb: float = 0.0  # the cold and warm aggregates, list pages and exports
    list_ms: float = 0.0
    dashboard_kb: float = 0.0
    form_kb: float = 0.0
    totals_ok: str = ""
    reads: Any = None  # bench.reads.ReadResult
    busy: BusyDisk | None = None
    bare_cpu: CpuSplit = field(default_factory=CpuSplit)  # the bare ceiling's rounds
    submit_cpu: CpuSplit = field(default_factory=CpuSplit)  # the service's rounds by token

    @property
    def share_of_ceiling(self) -> float:
        """Durable submissions as a percentage of what bare Flask answered in the same rounds."""
        return 100 * self.submit_rps / self.ceiling_rps if self.ceiling_rps else 0.0

    @property
    def phone_share_of_ceiling(self) -> float:
        """Submissions as the phone sends them, as a percentage of the same rounds' bare Flask."""
        return 100 * self.phone_rps / self.ceiling_rps if self.ceiling_rps else 0.0

    @property
    def times_baseline(self) -> float:
        """Submissions/s over the baseline's (one client: 1 / seconds per insert)."""
        return self.submit_rps * self.baseline_insert_s


def _export(seconds: float, mb: float) -> str:
    return f"{seconds:.1f} ({mb:.0f} MB)" if seconds >= 0 else "failed"


def _share(share: float, rounds: list[float]) -> str:
    """A share of the ceiling, with the lowest and highest of its rounds when there were several."""
    if len(rounds) < 2:
        return f"{share:.0f}%"
    return f"{share:.0f}% (rounds {min(rounds):.0f}–{max(rounds):.0f}%)"


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


PHONE = "submissions, as the phone sends them (session cookie + CSRF)"

ROWS: list[tuple[str, str, Callable[[SizeResult], str]]] = [
    ("households stored (generated)", "", lambda r: _n(r.households)),
    ("generation time (s)", "", lambda r: _n(r.generate_s, 1)),
    ("bare Flask ceiling: requests/s", "", lambda r: _n(r.ceiling_rps)),
    ("bare Flask p50 / p99 (ms)", "", lambda r: f"{r.ceiling_p50_ms:.1f} / {r.ceiling_p99_ms:.1f}"),
    ("durable submissions/s (201)", "", lambda r: _n(r.submit_rps)),
    ("share of the ceiling", "≥ 50% at 230k", lambda r: _share(r.share_of_ceiling, r.submit_round_shares)),
    ("submission p50 / p99 (ms)", "p99 ≤ 50 at 230k",
     lambda r: f"{r.submit_p50_ms:.1f} / {r.submit_p99_ms:.1f}"),
    ("submissions not answered 201", "0", lambda r: _n(r.submit_failed)),
    ("CPU per request (ms): server workers / database / whole machine; bare Flask", "",
     lambda r: r.bare_cpu.render()),
    ("CPU per request (ms): server workers / database / whole machine; submissions", "",
     lambda r: r.submit_cpu.render()),
    (f"{PHONE}: created/s (201)", "", lambda r: _n(r.phone_rps)),
    (f"{PHONE}: share of the ceiling", "", lambda r: _share(r.phone_share_of_ceiling, r.phone_round_shares)),
    (f"{PHONE}: p50 / p99 (ms)", "", lambda r: f"{r.phone_p50_ms:.1f} / {r.phone_p99_ms:.1f}"),
    (f"{PHONE}: not answered 201", "0", lambda r: _n(r.phone_failed)),
    ("busy disk: another process writing (MB/s, fdatasync per 256 KB)", "",
     lambda r: _n(r.busy.writer_mb_per_s) if r.busy else "-"),
    ("busy disk: append + fdatasync alone beside it, p50 / p99 (ms)", "",
     lambda r: f"{r.busy.floor_p50_ms:.2f} / {r.busy.floor_p99_ms:.1f}" if r.busy else "-"),
    ("busy disk: durable submissions/s (201)", "",
     lambda r: _n(r.busy.load.created / r.busy.load.seconds) if r.busy else "-"),
    ("busy disk: submission p50 / p99 (ms)", "p99 ≤ 100 at 230k",
     lambda r: f"{r.busy.load.p50_ms:.1f} / {r.busy.load.p99_ms:.1f}" if r.busy else "-"),
    ("disk: append + fdatasync alone, p50 / p99 (ms)", "",
     lambda r: f"{r.disk_p50_ms:.2f} / {r.disk_p99_ms:.1f}"),
    ("one-file TinyDB baseline: s per insert", "",
     lambda r: f"{r.baseline_insert_s:.2f} (n={r.baseline_inserts})" if r.baseline_inserts else "-"),
    ("speed-up over the baseline", "≥ 100× at 230k",
     lambda r: f"{r.times_baseline:,.0f}×" if r.baseline_inserts else "-"),
    ("aggregates cold, province / district / commune (s)", "≤ 2",
     lambda r: " / ".join(f"{r.cold_s.get(k, 0):.2f}" for k in ("province", "district", "commune"))),
    ("aggregates warm p50, province / district / commune (ms)", "≤ 50 at 230k",
     lambda r: " / ".join(f"{r.warm_ms.get(k, 0):.1f}" for k in ("province", "district", "commune"))),
    ("aggregate right after a write, p50 (ms)", "", lambda r: f"{r.after_write_ms:.1f}"),
    ("totals right after a write (correct/checked)", "all", lambda r: r.fresh),
    ("province totals = stored households", "yes", lambda r: r.totals_ok),
    ("filtered household list, warm p50 (ms)", "≤ 200 at 230k", lambda r: f"{r.list_ms:.1f}"),
    ("Department dashboard, brotli (KB)", "≤ 60 at 230k", lambda r: f"{r.dashboard_kb:.1f}"),
    ("form page, brotli (KB)", "≤ 25", lambda r: f"{r.form_kb:.1f}"),
    ("household CSV export, whole province (s)", "≤ 5 at 230k", lambda r: _export(r.csv_s, r.csv_mb)),
    ("household XLSX export, whole province (s)", "≤ 30 at 230k", lambda r: _export(r.xlsx_s, r.xlsx_mb)),
    ("peak memory per worker, RSS (MB)", "≤ 200 at 1M", lambda r: _n(r.peak_rss_mb)),
    ("— by server: submissions / aggregates, lists, exports / reads, then the import (MB)", "",
     lambda r: f"{_n(r.submit_peak_mb)} / {_n(r.service_peak_mb)} / "
               + (f"{_n(r.reads.peak_before_import_mb)}, {_n(r.reads.peak_rss_mb)}" if r.reads else "-")),
]


def column(result: SizeResult, backends: tuple[str, ...] | list[str]) -> str:
    """A column's heading: the size, and the backend when the run had more than one."""
    return f"{NAMES[result.backend]} {result.size:,}" if len(backends) > 1 else f"{result.size:,}"


def growth(results: list[SizeResult]) -> str:
    """Submission latency in the largest size's column over that in the smallest's, per backend."""
    lines = []
    for backend in dict.fromkeys(r.backend for r in results):
        mine = [r for r in results if r.backend == backend]
        if len(mine) < 2 or not mine[0].submit_p50_ms:
            continue
        small, large = mine[0], mine[-1]
        name = f"{NAMES[backend]}: " if len(results) > len(mine) else ""
        lines.append(f"{name}Submission latency, column {small.size:,} against column {large.size:,} "
                     f"(measured up to an hour apart, so the machine's drift is in it; the growth table "
                     f"below serves both at once): p50 ×{large.submit_p50_ms / small.submit_p50_ms:.2f}, "
                     f"p99 ×{large.submit_p99_ms / small.submit_p99_ms:.2f}.")
    return "\n".join(lines)


def render(results: list[SizeResult], conditions: str) -> str:
    """A Markdown table of ``results`` (a column per size, and per backend when there are two)
    with the run's conditions under it."""
    backends = list(dict.fromkeys(r.backend for r in results))
    head = "| measure | target | " + " | ".join(column(r, backends) for r in results) + " |"
    rule = "|---|---|" + "---:|" * len(results)
    lines = [head, rule]
    for label, target, cell in ROWS:
        lines.append(f"| {label} | {target} | " + " | ".join(cell(r) for r in results) + " |")
    return "\n".join([*lines, "", growth(results), "", conditions]).strip() + "\n"
