"""Reads at one size: aggregates under wrk at every level and role, the office's pages, an import.

Aggregates are loaded like submissions: 16 connections in alternating rounds against a bare
Flask GET (``bench/bare_reads.py``), so the share of the ceiling holds on a noisy machine.
Each role asks for its whole area (the Department the province, a district account its
district, an officer its commune) at every level it may read. The office's pages are timed
with one client on loopback to the last byte (that is, the server's time plus microseconds).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from survey import create_app

from .generate import PASSWORD as _PASSWORD
from .load import LoadResult, ensure_wrk
from .probes import Client, aggregate_path
from .server import Server

__all__ = ["ReadResult", "measure_reads", "render_reads"]

SCRIPT = Path(__file__).resolve().parent / "get.lua"
OURS = "wsgi:app"
ROLES = {"department": ("province", "district", "commune", "hamlet"),
         "district": ("district", "commune", "hamlet"),
         "officer": ("commune", "hamlet")}
PAGES = ("/households?q=nguyen%20van",
         "/households?district=152&review=none&page=3",
         "/households?q=xom&visited_on=2020-08-12&page=2",
         "/households?officer=xa-4789&hamlet=X%C3%B3m%20M%E1%BB%9Bi")
IMPORT_ROWS = 50_000  # or a quarter of a smaller campaign


@dataclass
class AggregateLoad:
    """One role at one level: the service and the bare ceiling over the same rounds."""

    role: str
    level: str
    ceiling_rps: float
    rps: float
    p50_ms: float
    p99_ms: float
    not_ok: int
    ceiling_p50_ms: float = 0.0
    ceiling_p99_ms: float = 0.0

    @property
    def share(self) -> float:
        """Answers per second as a percentage of bare Flask's."""
        return 100 * self.rps / self.ceiling_rps if self.ceiling_rps else 0.0


@dataclass
class ReadResult:
    """Everything this module measures at one size."""

    loads: list[AggregateLoad] = field(default_factory=list)
    dashboard_ms: float = 0.0
    pages_ms: float = 0.0
    import_rows: int = 0
    import_s: float = 0.0
    import_created: int = 0
    cold_province_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_before_import_mb: float = 0.0


def get_load(url: str, path: str, token: str, seconds: float, connections: int) -> LoadResult:
    """GET ``path`` for ``seconds`` from ``connections`` clients; ``created`` counts the 200s."""
    cmd = [ensure_wrk(), "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(SCRIPT), url + path, "--", token]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    d = json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{")))
    return LoadResult(requests=d["requests"], seconds=d["duration_us"] / 1e6, created=d["created"],
                      other=d["other"], socket_errors=d["socket_errors"],
                      p50_ms=d["p50_us"] / 1000, p99_ms=d["p99_us"] / 1000)


def reader_tokens(env: dict, department_token: str) -> dict[str, str]:
    """Tokens of a district account (the district with most data) and an officer (its largest
    commune), made in the store the service under test uses (files or database)."""
    app = create_app({**env, "SURVEY_DATABASE_URL": env.get("SURVEY_DATABASE_URL")})
    camp = app.extensions["survey"]
    size = {c: camp.households.count([c]) for c in camp.gazetteer.communes}
    district = max(camp.gazetteer.communes_of, key=lambda d: sum(size[c] for c in camp.gazetteer.communes_of[d]))
    commune = max(camp.gazetteer.communes_of[district], key=size.__getitem__)
    tokens = {"department": department_token}
    for role, unit in (("district", district), ("officer", commune)):
        name = f"bench-{role}"
        if camp.users.load(name) is None:
            camp.users.add(name, _PASSWORD, role, unit)
        tokens[role] = camp.users.new_token(name)
    return tokens


def measure_reads(args, size: int, root: Path, env: dict, department_token: str) -> ReadResult:
    """Aggregates under load for every role and level, then the pages, an import, a cold start."""
    result = ReadResult()
    tokens = reader_tokens(env, department_token)
    seconds = max(1.0, args.seconds / args.rounds / 2)
    with Server("bench.bare_reads:app", root / "bare-reads.log", env) as bare, \
            Server(OURS, root / "reads.log", env) as ours:
        for role, levels in ROLES.items():
            for level in levels:
                result.loads.append(_aggregate_load(bare.url, ours.url, role, level, tokens[role], seconds, args))
        client = Client(ours.url, department_token)
        repeats = max(5, args.repeats // 2)
        result.dashboard_ms = 1000 * _p50(client, ("/dashboard",), repeats)
        result.pages_ms = 1000 * _p50(client, PAGES, max(2, repeats // 4))
        result.peak_before_import_mb = ours.sample_memory()
        rows = min(IMPORT_ROWS, max(1500, size // 4))  # small sizes: still a job, never a sync import
        result.import_rows, result.import_s, result.import_created = timed_import(ours.url, department_token, rows)
        result.peak_rss_mb = ours.sample_memory()
    with Server(OURS, root / "reads.log", env) as ours:
        result.cold_province_s = Client(ours.url, department_token).get_json(aggregate_path("province"))[0]
    return result


def _aggregate_load(bare_url: str, our_url: str, role: str, level: str, token: str, seconds: float,
                    args) -> AggregateLoad:
    """Alternating rounds, bare then service; rates added up, percentiles the rounds' median."""
    path = aggregate_path(level)
    Client(our_url, token).get_json(path)  # the first answer of this scope is not what load measures
    bare, ours = [], []
    for _ in range(args.rounds):
        bare.append(get_load(bare_url, path, "", seconds, args.connections))
        ours.append(get_load(our_url, path, token, seconds, args.connections))
    return AggregateLoad(role, level, _rate(bare), _rate(ours, ok=True),
                         statistics.median(r.p50_ms for r in ours), statistics.median(r.p99_ms for r in ours),
                         sum(r.other + r.socket_errors for r in ours),
                         statistics.median(r.p50_ms for r in bare), statistics.median(r.p99_ms for r in bare))


def _rate(runs: list[LoadResult], ok: bool = False) -> float:
    return sum(r.created if ok else r.requests for r in runs) / sum(r.seconds for r in runs)


def _p50(client: Client, paths: tuple[str, ...], repeats: int, workers: int = 5) -> float:
    """Median seconds to the last byte of each path, asked ``repeats`` times once every
    worker has answered it (the first answer of a worker is the cold figure, not this one)."""
    for path in paths:
        for _ in range(2 * workers):
            client.timed_get(path)
    return statistics.median(client.timed_get(path)[0] for _ in range(repeats) for path in paths)


def import_csv(rows: int) -> bytes:
    """Paper forms typed into a spreadsheet: ``rows`` households over several communes."""
    communes = (4789, 4792, 4795, 4798, 4801, 4804, 4807, 4813)
    lines = ["commune_code,hamlet,head_name,members,smartphone_users,installed_before,"
             "installed_during_visit,visited_on"]
    lines += [f"{communes[i % len(communes)]},Xóm {i % 13},Hộ nhập số {i},{1 + i % 6},1,0,1,2020-08-{10 + i % 10}"
              for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def timed_import(url: str, token: str, rows: int = IMPORT_ROWS) -> tuple[int, float, int]:
    """(rows, seconds from upload to the job's end, households created) of one CSV import."""
    body, headers = import_csv(rows), {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    r = requests.post(url + "/import", files={"file": ("ho.csv", body, "text/csv")}, headers=headers,
                      allow_redirects=False, timeout=600)
    if r.status_code != 303:
        raise RuntimeError(f"import answered {r.status_code}: {r.text[:300]}")
    status_url = url + r.headers["Location"] + ".json"
    deadline = start + 600
    while time.perf_counter() < deadline:
        status = requests.get(status_url, headers=headers, timeout=60).json()
        if status["state"] != "running":
            return rows, time.perf_counter() - start, status.get("created") or 0
        time.sleep(0.1)
    raise RuntimeError("the import did not finish in 600 s")


def render_reads(sizes: list[int | str], reads: list[ReadResult]) -> str:
    """A Markdown table of aggregate loads (one line per role and level) and the office's pages;
    a column per size (a number), or as headed (a size on one backend, "PostgreSQL 230,000")."""
    if not any(reads):
        return ""
    head = "| aggregates, 16 connections | " + " | ".join(f"{s:,}" if isinstance(s, int) else s for s in sizes) + " |"
    lines = ["", "Reads: aggregates as each role's whole area, warm; req/s (share of bare Flask GET), p50 / p99 ms; "
             "the bare GET's own p50 / p99 in the same rounds after the semicolon",
             "", head, "|---|" + "---:|" * len(sizes)]
    cases = [(role, level) for role, levels in ROLES.items() for level in levels]
    for role, level in cases:
        cells = []
        for r in reads:
            load = next((x for x in r.loads if (x.role, x.level) == (role, level)), None) if r else None
            cells.append(f"{load.rps:,.0f} ({load.share:.0f}%) {load.p50_ms:.1f} / {load.p99_ms:.1f}; "
                         f"{load.ceiling_p50_ms:.1f} / {load.ceiling_p99_ms:.1f}"
                         + (f", {load.not_ok} not 200" if load.not_ok else "") if load else "")
        lines.append(f"| {role}, {level} | " + " | ".join(cells) + " |")
    ceiling = [statistics.median(x.ceiling_rps for x in r.loads) if r and r.loads else 0 for r in reads]
    rows = [("bare Flask GET ceiling, median req/s", [f"{c:,.0f}" for c in ceiling]),
            ("cold: first province request after a restart (s)", [f"{r.cold_province_s:.2f}" for r in reads]),
            ("Department dashboard, p50 to last byte (ms)", [f"{r.dashboard_ms:.1f}" for r in reads]),
            ("household list pages (filters, search), p50 (ms)", [f"{r.pages_ms:.1f}" for r in reads]),
            ("import of a CSV, upload to done (s)",
             [f"{r.import_s:.1f} ({r.import_created:,} of {r.import_rows:,} rows)" for r in reads]),
            ("peak memory per worker: reads before the import / after it (MB)",
             [f"{r.peak_before_import_mb:.0f} / {r.peak_rss_mb:.0f}" for r in reads])]
    for label, cells in rows:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
