"""Decoded files kept per process, so a reload of the figures does not decode JSON again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["DecodedCache", "CACHE"]


class DecodedCache:
    """Decoded files keyed on the file's revision, least recently used out, within a byte budget."""

    # Decoded JSON takes about 3.4x its size on disk (measured on communes of 2 to 11 MB):
    # 16 MB of files is ~55 MB of a worker. That holds the largest commune at 1,000,000
    # households (11 MB) or the few communes of a round of list pages; 32 MB let a worker
    # that browses grow by over 100 MB.
    def __init__(self, budget_bytes: int = 16 * 1024 * 1024):
        self.budget = budget_bytes
        self.used = 0
        self.items: OrderedDict[str, tuple[str, Any, int]] = OrderedDict()
        self.lock = threading.Lock()
        self._passing = threading.local()

    @contextmanager
    def passing_through(self) -> Iterator[None]:
        """Within this block, this thread's reads and writes keep nothing new in the cache.

        For a job that goes through many files once (an import): what it decodes would push
        the files readers ask for out of the cache, and stay in the worker as its peak."""
        before = getattr(self._passing, "on", False)
        self._passing.on = True
        try:
            yield
        finally:
            self._passing.on = before

    def get(self, path: str, rev: str) -> Any | None:
        """The decoded copy of ``path`` if it is of revision ``rev``."""
        with self.lock:
            item = self.items.get(path)
            if item is None or item[0] != rev:
                return None
            self.items.move_to_end(path)
            return item[1]

    def put(self, path: str, rev: str, data: Any, size: int) -> None:
        """Keep ``data`` as revision ``rev`` of ``path``; the oldest entries go past the budget."""
        with self.lock:
            self._forget(path)
            if size > self.budget or getattr(self._passing, "on", False):
                return
            self.items[path] = (rev, data, size)
            self.used += size
            while self.used > self.budget:
                _, (_, _, dropped) = self.items.popitem(last=False)
                self.used -= dropped

    def clear(self) -> None:
        """Forget every decoded file: before a job that peaks (an import), so that it peaks
        beside what the worker must hold rather than beside copies readers may ask for again."""
        with self.lock:
            self.items.clear()
            self.used = 0

    def drop(self, path: str) -> None:
        """Forget ``path`` (before it is rewritten)."""
        with self.lock:
            self._forget(path)

    def _forget(self, path: str) -> None:
        old = self.items.pop(path, None)
        if old:
            self.used -= old[2]


CACHE = DecodedCache()
