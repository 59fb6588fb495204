"""A measurement prototype, never for users: the app served by an event loop, its flushes
shared by a flushing thread after a short commit delay.

    python -m bench.loop_server APP PORT PROCESSES [--journal PATH] [--delay-ms MS]

Each of ``PROCESSES`` forked processes listens on ``PORT`` (``SO_REUSEPORT``) and runs one
asyncio loop that holds many requests at once. A request runs the WSGI app in the loop's
thread; where the service would wait for its log line's ``fdatasync``
(``storage.logged.PendingFlush.run``), the prototype instead appends a line of the same
size to a journal file of its process (``--journal PATH`` + ``.<pid>``) and hands it to the
process's flushing thread, and the request waits for that thread without holding the loop.
The thread waits ``--delay-ms`` for more requests to join, then runs one ``fdatasync`` of
the journal for all of them and wakes them. The answer goes out after the flush that covers
its line, as the service's does; ``Connection: close`` after each answer, as gunicorn's sync
workers send.

It is not a design to deploy: the commune logs themselves are never flushed, and nothing
replays the journal after a power cut; the HTTP parsing is the least that ``wrk`` needs.
It measures what a server that waits only when it has nothing else to do would change
(``bench/event_loop.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["main", "Flusher"]

LINE = b"x" * 440  # the size of a household's log line (the benchmark's bodies: 430-450 bytes)


class Flusher:
    """One thread per process: every request handed over meanwhile is covered by one flush."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, delay_s: float):
        self.loop, self.fd, self.delay_s = loop, fd, delay_s
        self.waiting: list[asyncio.Future] = []
        self.ready = threading.Condition()
        threading.Thread(target=self._run, daemon=True).start()

    def cover(self) -> asyncio.Future:
        """Under the loop: a future resolved once a flush started after this call has ended."""
        future = self.loop.create_future()
        with self.ready:
            self.waiting.append(future)
            self.ready.notify()
        return future

    def _run(self) -> None:
        while True:
            with self.ready:
                while not self.waiting:
                    self.ready.wait()
            if self.delay_s:
                time.sleep(self.delay_s)  # the commit delay: more requests join this flush
            with self.ready:
                batch, self.waiting = self.waiting, []
            os.fdatasync(self.fd)
            for future in batch:
                self.loop.call_soon_threadsafe(future.set_result, None)


def _environ(head: bytes, port: int) -> dict:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    path, _, query = target.partition("?")
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(port), "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value.strip()
        elif key:
            environ["HTTP_" + key] = value.strip()
    return environ


def _hook_flushes(journal: Path | None, pending: list) -> int | None:
    """Replace the service's flush by a journal line noted in ``pending``; the journal's fd."""
    if journal is None:
        return None
    from survey.storage import logged
    fd = os.open(f"{journal}.{os.getpid()}", os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)

    def run(flush: logged.PendingFlush) -> None:
        os.write(fd, LINE)
        pending.append(True)
        os.close(flush.fd)

    logged.PendingFlush.run = run
    return fd


def serve(spec: str, port: int, journal: Path | None, delay_s: float) -> None:
    """One process: the loop, the app, the flusher."""
    pending: list = []
    journal_fd = _hook_flushes(journal, pending)
    module, attr = spec.split(":")
    app: Callable = getattr(importlib.import_module(module), attr)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    flusher = Flusher(loop, journal_fd, delay_s) if journal_fd is not None else None

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            environ = _environ(await reader.readuntil(b"\r\n\r\n"), port)
            body = await reader.readexactly(int(environ.get("CONTENT_LENGTH") or 0))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            writer.close()
            return
        environ["wsgi.input"] = io.BytesIO(body)
        answer: dict = {}
        pending.clear()
        out = b"".join(app(environ, lambda status, headers, exc=None: answer.update(status=status, headers=headers)))
        if pending and flusher is not None:
            await flusher.cover()
        head = "".join(f"{k}: {v}\r\n" for k, v in answer["headers"]
                       if k.lower() not in ("content-length", "connection"))
        writer.write(f"HTTP/1.1 {answer['status']}\r\n{head}Content-Length: {len(out)}\r\nConnection: close\r\n\r\n"
                     .encode("latin-1") + out)
        await writer.drain()
        writer.close()

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    loop.run_until_complete(asyncio.start_server(handle, sock=sock, backlog=1024))
    loop.run_forever()


def main(argv: list[str] | None = None) -> int:
    """Fork the processes and wait for them (stop with SIGTERM to the parent's group)."""
    p = argparse.ArgumentParser(prog="python -m bench.loop_server", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("app")
    p.add_argument("port", type=int)
    p.add_argument("processes", type=int)
    p.add_argument("--journal", type=Path, help="the journal's path, without the process id (none: no flush hook)")
    p.add_argument("--delay-ms", type=float, default=1.0)
    args = p.parse_args(argv)
    children = []
    for _ in range(args.processes):
        pid = os.fork()
        if pid == 0:
            try:
                serve(args.app, args.port, args.journal, args.delay_ms / 1000)
            finally:
                os._exit(1)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
