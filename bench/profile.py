"""Where the time of a submission goes: pyinstrument over submissions through Flask's test client.

    .venv/bin/python -m bench.profile --size 230000 --submissions 2000

Generates a campaign (as ``python -m bench`` does), warms up, times ``--submissions`` POSTs
without the profiler (wall and CPU per submission), then profiles the same number and prints
pyinstrument's call tree (``--html`` also writes the interactive page). One process, one
thread: the figures are the CPU a submission costs and the time it waits on the disk, not
what gunicorn adds.

``--paths`` first times the two ways a submission arrives (a bearer token; the session
cookie with its CSRF token and ``?lang=``, as the phone's outbox sends it) through the app
with and without its lean submission path (``survey/api/lean_submit.py``), best of seven
rounds each, alternating, on the same campaign. Then it calls the app's WSGI callable
directly with requests made beforehand, beside bare Flask's endpoint (``bench/bare.py``)
called the same way: what the app's own code costs above any Flask endpoint, without the
test client's cost, which both pay.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import sys
import time
import uuid
from pathlib import Path

from pyinstrument import Profiler

from survey import create_app

from .bare import app as bare_app
from .generate import PASSWORD, TOKEN_USER, generate, post_bodies

__all__ = ["main"]


def _submit(client, bodies: list[str], token: str, count: int) -> None:
    _post(client, "/api/v1/households", {"Authorization": f"Bearer {token}"}, bodies, count)


def _phone_headers(client) -> dict:
    """Sign ``client`` in through the login form as the bench account; the outbox's headers."""
    page = client.get("/login").get_data(as_text=True)
    form = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": TOKEN_USER, "password": PASSWORD, "csrf_token": form})
    if answer.status_code != 302:
        raise RuntimeError(f"signing in answered {answer.status_code}")
    return {"X-CSRF-Token": client.get("/api/v1/session?lang=vi").get_json()["csrf_token"],
            "Accept-Encoding": "gzip, deflate, br, zstd"}


def _paths(data_dir: str, bodies: list[str], token: str, count: int) -> None:
    """CPU per submission, lean path on and off, by token and as the phone sends them."""
    shapes = {}
    for lean in (True, False):
        client = create_app({"SURVEY_DATA_DIR": data_dir, "SECRET_KEY": "bench",
                             "LEAN_SUBMISSIONS": lean}).test_client()
        shapes[("token", lean)] = (client, "/api/v1/households", {"Authorization": f"Bearer {token}"})
        phone = create_app({"SURVEY_DATA_DIR": data_dir, "SECRET_KEY": "bench", "LEAN_SUBMISSIONS": lean}).test_client()
        shapes[("phone", lean)] = (phone, "/api/v1/households?lang=vi", _phone_headers(phone))
    best: dict[tuple[str, bool], float] = {}
    for _ in range(7):
        for key, (client, url, headers) in shapes.items():
            cpu = time.process_time()
            _post(client, url, headers, bodies, count)
            best[key] = min(best.get(key, float("inf")), (time.process_time() - cpu) / count)
    for shape in ("token", "phone"):
        on, off = best[(shape, True)], best[(shape, False)]
        print(f"{shape}: {1000 * off:.3f} ms CPU per submission through Flask, {1000 * on:.3f} ms with the "
              f"lean path ({100 * (1 - on / off):.0f}% less), best of 7 rounds of {count}")


def _direct(data_dir: str, bodies: list[str], token: str, count: int) -> None:
    """CPU per request of the WSGI callables alone: the app's by token, and bare Flask's."""
    apps = {"app": create_app({"SURVEY_DATA_DIR": data_dir, "SECRET_KEY": "bench"}).wsgi_app,
            "bare": bare_app.wsgi_app}
    best: dict[str, float] = {}
    for _ in range(7):
        for name, call in apps.items():
            environs = [_environ(bodies[i % len(bodies)], token if name == "app" else "") for i in range(count)]
            statuses: list[str] = []
            answer = _answered(statuses)
            cpu = time.process_time()
            for environ in environs:
                b"".join(call(environ, answer))
            best[name] = min(best.get(name, float("inf")), (time.process_time() - cpu) / count)
            if len(statuses) != count or any(not status.startswith("201") for status in statuses):
                raise RuntimeError(f"{len(statuses)} of {count} direct calls ({name}) answered, "
                                   f"the first {statuses[:3]}")
    print(f"WSGI callable alone: {1000 * best['app']:.3f} ms CPU per submission by token, bare Flask's endpoint "
          f"{1000 * best['bare']:.3f} ms, best of 7 rounds of {count}")


def _answered(statuses: list[str]):
    """A WSGI ``start_response`` that keeps each status in ``statuses``."""
    def start_response(status: str, headers: list, exc_info=None):
        statuses.append(status)
    return start_response


def _environ(body: str, token: str) -> dict:
    """A POST of ``body`` (a fresh id) as gunicorn would hand it to the app."""
    raw = body.replace("@ID@", str(uuid.uuid4()), 1).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/households", "QUERY_STRING": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)),
               "wsgi.input": io.BytesIO(raw), "wsgi.errors": sys.stderr, "wsgi.url_scheme": "http",
               "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False}
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


def _post(client, url: str, headers: dict, bodies: list[str], count: int) -> None:
    for i in range(count):
        body = bodies[i % len(bodies)].replace("@ID@", str(uuid.uuid4()), 1)
        resp = client.post(url, data=body, headers={**headers, "Content-Type": "application/json"})
        if resp.status_code != 201:
            raise RuntimeError(f"submission answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")


def main(argv: list[str] | None = None) -> int:
    """Generate, warm up, time, profile; print the summary."""
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    p.add_argument("--size", type=int, default=230000, help="households generated first")
    p.add_argument("--submissions", type=int, default=2000, help="timed, then profiled, submissions")
    p.add_argument("--workdir", type=Path, default=Path("bench/results/profile"))
    p.add_argument("--html", type=Path, help="also write pyinstrument's HTML page here")
    p.add_argument("--paths", type=int, metavar="N",
                   help="first time rounds of N submissions with and without the lean path, both shapes")
    args = p.parse_args(argv)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    camp = generate(args.workdir, args.size)
    bodies = post_bodies(args.workdir / "bodies.txt")
    if args.paths:
        _paths(str(camp.data_dir), bodies, camp.token, args.paths)
        _direct(str(camp.data_dir), bodies, camp.token, args.paths)
    client = create_app({"SURVEY_DATA_DIR": str(camp.data_dir), "SECRET_KEY": "bench"}).test_client()
    _submit(client, bodies, camp.token, 200)
    wall, cpu = time.perf_counter(), time.process_time()
    _submit(client, bodies, camp.token, args.submissions)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{args.submissions} submissions at {camp.households:,} households: "
          f"{1000 * wall / args.submissions:.3f} ms wall, {1000 * cpu / args.submissions:.3f} ms CPU each")
    profiler = Profiler(interval=0.001)
    with profiler:
        _submit(client, bodies, camp.token, args.submissions)
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")
    shutil.rmtree(args.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
