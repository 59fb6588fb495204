"""Where the time of a warm aggregate request goes, in one process (pyinstrument).

    .venv/bin/python -m bench.profile_reads --size 230000 --level commune --requests 400

Generates the campaign once into ``--workdir`` (kept for the next run), then asks the API as
the Department through Flask's test client: a few requests to warm up, then ``--requests``
timed ones (CPU per request at every level) and the same again under pyinstrument for
``--level``. It prints CPU per request, the time inside the main parts of a request
(inclusive), and the modules whose own code took the most time. One process, no server,
no network: what a worker spends, not what a client waits.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

from pyinstrument import Profiler

from survey import create_app

from .generate import generate
from .probes import aggregate_path

# Parts of a request, by the function that does each (inclusive time, outermost call only).
PARTS = {
    "full_dispatch_request": "whole request inside Flask",
    "preprocess_request": "before-request hooks (user, language, limits)",
    "load_user": "  of which: the bearer token's user",
    "aggregates": "the view",
    "aggregate_rows": "  of which: rows (kept tallies, roll-up)",
    "communes_in_scope": "  of which: scope",
    "dumps": "  of which: JSON encoding",
    "change_token": "  of which: the change token (inotify counts, or stats)",
    "process_response": "after-request hooks (compression, headers, session)",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Size, level, number of requests, where the generated campaign is kept."""
    p = argparse.ArgumentParser(prog="python -m bench.profile_reads", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=230000)
    p.add_argument("--level", default="commune", help="the level profiled with pyinstrument")
    p.add_argument("--requests", type=int, default=400)
    p.add_argument("--workdir", type=Path, default=Path("bench/results/profile"))
    p.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree")
    p.add_argument("--uncached", action="store_true",
                   help="compute every answer afresh (the store offers no change token): the design before")
    return p.parse_args(argv)


def campaign_dir(args: argparse.Namespace) -> tuple[Path, str]:
    """(data directory, Department token), generating the campaign on the first run only."""
    root = args.workdir / str(args.size)
    token_file = root / "token.txt"
    if not token_file.exists():
        root.mkdir(parents=True, exist_ok=True)
        camp = generate(root, args.size)
        (root / "baseline.json").unlink(missing_ok=True)
        token_file.write_text(camp.token)
    return root / "data", token_file.read_text().strip()


def cpu_per_request(client, path: str, headers: dict, n: int) -> float:
    """Milliseconds of this process's CPU per request, warm."""
    for _ in range(3):
        assert client.get(path, headers=headers).status_code == 200
    start = time.process_time()
    for _ in range(n):
        client.get(path, headers=headers)
    return 1000 * (time.process_time() - start) / n


def walk(frame, seen: frozenset = frozenset(), parent=None):
    """Every frame of the tree with the function names of its ancestors and its parent."""
    yield frame, seen, parent
    for child in frame.children:
        yield from walk(child, seen | {frame.function}, frame)


def summarise(root, n: int) -> list[str]:
    """Inclusive time of the request's parts and the modules with the most own time."""
    parts: dict[str, float] = defaultdict(float)
    modules: dict[str, float] = defaultdict(float)
    for frame, above, parent in walk(root):
        if frame.function in PARTS and frame.function not in above:
            parts[frame.function] += frame.time
        own = frame.time - sum(child.time for child in frame.children)
        where = parent if frame.is_synthetic_leaf and parent is not None else frame
        modules[_module(where.file_path or "", where.function)] += own
    total = root.time
    lines = [f"sampled {total * 1000 / n:.2f} ms a request over {n} requests", "", "part | ms a request | share"]
    lines += [f"{label} | {parts[f] * 1000 / n:.2f} | {100 * parts[f] / total:.0f}%"
              for f, label in PARTS.items() if parts.get(f)]
    lines += ["", "module (own time) | ms a request | share"]
    for name, t in sorted(modules.items(), key=lambda kv: -kv[1])[:14]:
        lines.append(f"{name} | {t * 1000 / n:.2f} | {100 * t / total:.0f}%")
    return lines


def _module(path: str, function: str) -> str:
    """``package/module.py`` from a file path; site-packages and the standard library shortened;
    built-in calls (``stat``, ``open``) by their own name."""
    if not path or path.startswith("<"):
        return f"built-in {function}"
    parts = Path(path).parts
    for anchor in ("site-packages", "survey", "exports", "bench"):
        if anchor in parts:
            at = parts.index(anchor)
            rest = parts[at + 1:] if anchor == "site-packages" else parts[at:]
            return "/".join(rest[:2]) if len(rest) > 1 else (rest[0] if rest else path)
    return "/".join(parts[-2:])


def main(argv: list[str] | None = None) -> int:
    """Profile warm aggregate requests as the Department."""
    args = parse_args(argv)
    data_dir, token = campaign_dir(args)
    app = create_app({"SURVEY_DATA_DIR": str(data_dir), "SECRET_KEY": "bench"})
    if args.uncached:
        app.extensions["survey"].households.change_token = lambda communes: None
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    print(f"{args.size:,} households, Department, warm, Flask test client, one process"
          + (", every answer computed afresh" if args.uncached else ""))
    print("level | CPU ms a request")
    for level in ("province", "district", "commune", "hamlet"):
        print(f"{level} | {cpu_per_request(client, aggregate_path(level), headers, args.requests):.2f}")
    path = aggregate_path(args.level)
    with Profiler(interval=0.0005) as profiler:
        for _ in range(args.requests):
            client.get(path, headers=headers)
    session = profiler.last_session
    print(f"\npyinstrument, level={args.level}:")
    print("\n".join(summarise(session.root_frame(), args.requests)))
    if args.tree:
        print(profiler.output_text(color=False, show_all=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
