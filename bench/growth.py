"""Latency growth with the province's size, both sizes served at once in alternating rounds.

The sizes of a run are measured one after another over most of an hour, and this machine's
speed drifts over that time (the bare ceiling has moved by a fifth between the first size
and the last of one run; BENCHMARKS.md), so a ratio of latencies taken from two columns
carries the drift as well as the size. Here the smallest and the largest campaign of a
backend are served side by side, beside bare Flask, and loaded in alternating rounds (bare,
small, large; then each of the Department's aggregate levels, small and large), so both see
the same machine. Growth is the large campaign's latency over the small one's, each the
median of its rounds; each round's own ratio is shown as well, so a reader sees how far
noise moves it.

The small campaign is generated afresh for this phase; the large one is the campaign its
size was measured on, kept for this, so it holds that size's households and everything its
rounds added. Both grow during the rounds; the table names the households each held when
the rounds began.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .load import LoadResult, post_load
from .probes import Client, aggregate_path, count_stored
from .reads import get_load
from .server import Server

__all__ = ["Kept", "GrowthLoad", "GrowthResult", "measure_growth", "render_growth", "LEVELS", "TARGET"]

OURS = "wsgi:app"
LEVELS = ("province", "district", "commune", "hamlet")  # the Department's: every level it reads
TARGET = 1.2


@dataclass
class Kept:
    """A campaign left on disk (or in its database) after its size was measured."""

    root: Path
    env: dict[str, str]
    token: str


@dataclass
class GrowthLoad:
    """One measure on both campaigns, round by round."""

    name: str
    small: list[LoadResult]
    large: list[LoadResult]  # ``created`` counts the 201s of submissions, the 200s of reads

    @staticmethod
    def _median(runs: list[LoadResult], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs)

    def p50(self, which: str) -> float:
        return self._median(getattr(self, which), "p50_ms")

    def p99(self, which: str) -> float:
        return self._median(getattr(self, which), "p99_ms")

    def growth(self) -> tuple[float, float]:
        """(p50, p99) of the large campaign over the small one's."""
        return self.p50("large") / self.p50("small"), self.p99("large") / self.p99("small")

    def round_growth(self) -> list[float]:
        """Each round's p50 on the large campaign over the small one's in the same round."""
        return [large.p50_ms / small.p50_ms for small, large in zip(self.small, self.large)]

    def not_ok(self) -> int:
        """Answers other than 201 (submissions) or 200 (reads), and socket errors, on both."""
        return sum(r.requests - r.created + r.socket_errors for r in self.small + self.large)

    def rate(self, which: str) -> float:
        runs = getattr(self, which)
        return sum(r.created for r in runs) / sum(r.seconds for r in runs)


@dataclass
class GrowthResult:
    """The growth phase of one backend."""

    backend: str
    small_size: int
    large_size: int
    small_households: int = 0
    large_households: int = 0
    ceiling: list[LoadResult] = field(default_factory=list)
    loads: list[GrowthLoad] = field(default_factory=list)


def measure_growth(args, backend: str, small: Kept, large: Kept, small_size: int, large_size: int) -> GrowthResult:
    """Submissions and the Department's aggregates at every level, on both campaigns at once."""
    result = GrowthResult(backend, small_size, large_size, count_stored(small.env), count_stored(large.env))
    seconds = args.seconds / args.rounds
    bodies = large.root / "bodies.txt"
    with Server("bench.bare:app", large.root / "growth-bare.log", large.env) as bare, \
            Server(OURS, small.root / "growth.log", small.env) as ours_small, \
            Server(OURS, large.root / "growth.log", large.env) as ours_large:
        sub = GrowthLoad("submissions", [], [])
        for _ in range(args.rounds):
            result.ceiling.append(post_load(bare.url, bodies, "", seconds, args.connections))
            sub.small.append(post_load(ours_small.url, bodies, small.token, seconds, args.connections))
            sub.large.append(post_load(ours_large.url, bodies, large.token, seconds, args.connections))
        result.loads.append(sub)
        for level in LEVELS:
            path = aggregate_path(level)
            for server, kept in ((ours_small, small), (ours_large, large)):
                Client(server.url, kept.token).get_json(path)  # the first answer of a scope is the cold one
            load = GrowthLoad(f"Department's aggregates, {level}", [], [])
            for _ in range(args.rounds):
                load.small.append(get_load(ours_small.url, path, small.token, seconds / 2, args.connections))
                load.large.append(get_load(ours_large.url, path, large.token, seconds / 2, args.connections))
            result.loads.append(load)
    return result


def render_growth(results: list[GrowthResult], names: dict[str, str], args) -> str:
    """A Markdown table per backend: latency on each campaign, and growth, for every measure."""
    out = []
    for g in results:
        ceiling = sum(r.requests for r in g.ceiling) / sum(r.seconds for r in g.ceiling) if g.ceiling else 0
        out += ["", f"{names[g.backend]}: latency growth {g.small_size:,} → {g.large_size:,}, both campaigns "
                f"served at once in {args.rounds} alternating rounds ({g.small_households:,} and "
                f"{g.large_households:,} households when the rounds began; bare Flask {ceiling:,.0f}/s in the "
                f"same rounds); p50 / p99 (ms), the median of the rounds; growth target ≤ {TARGET}×", "",
                f"| measure | {g.small_size:,}: answered/s, p50 / p99 | {g.large_size:,}: answered/s, p50 / p99 "
                f"| growth p50 (rounds) / p99 | not answered 201/200 |",
                "|---|---:|---:|---:|---:|"]
        for load in g.loads:
            p50, p99 = load.growth()
            rounds = load.round_growth()
            out.append(f"| {load.name} | {load.rate('small'):,.0f}, {load.p50('small'):.1f} / {load.p99('small'):.1f} "
                       f"| {load.rate('large'):,.0f}, {load.p50('large'):.1f} / {load.p99('large'):.1f} "
                       f"| ×{p50:.2f} (×{min(rounds):.2f}–{max(rounds):.2f}) / ×{p99:.2f} | {load.not_ok()} |")
    return "\n".join(out) + ("\n" if out else "")
