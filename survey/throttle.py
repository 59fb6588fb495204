"""Login throttling per account and per address, shared by every gunicorn worker.

Attempts live in the collection ``login_attempts`` (a file in the data directory, or the
database), so a guesser cannot spread tries over workers or app hosts. Each attempt is counted *before* the password is
checked, in the same locked write that checks the limit: racing requests cannot slip
past it. A successful login takes its attempt back and clears the account's failures.
Keys are hashes, so the file holds neither usernames nor addresses.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from .storage import Documents, DocumentSpace

__all__ = ["LoginThrottle", "Limits", "Throttled"]


@dataclass(frozen=True)
class Limits:
    """How many attempts an account and an address may make within ``window`` seconds."""

    per_account: int = 5
    per_address: int = 20
    window: float = 15 * 60


class Throttled(Exception):
    """Too many recent attempts; ``retry_after`` seconds until the oldest one expires."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many login attempts; try again in {retry_after} s")
        self.retry_after = retry_after


def _key(kind: str, value: str) -> str:
    return kind + ":" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class LoginThrottle:
    """Counts login attempts in the data directory and refuses those over the limits."""

    def __init__(self, space: DocumentSpace, limits: Limits, clock: Callable[[], float] = time.time):
        self.attempts = space.collection("login_attempts", "attempts")
        self.limits = limits
        self.clock = clock

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(_key("user", username.casefold()), self.limits.per_account),
                (_key("addr", address), self.limits.per_address)]

    def begin(self, username: str, address: str) -> float:
        """Count one attempt, or raise Throttled if the account or address is over its limit."""
        now = self.clock()
        horizon = now - self.limits.window
        keys = self._keys(username, address)
        with self.attempts.update() as docs:
            recent = self._prune(docs, horizon)
            for key, limit in keys:
                times = recent.get(key, [])
                if len(times) >= limit:
                    raise Throttled(max(1, int(min(times) + self.limits.window - now) + 1))
            for key, _ in keys:
                times = recent.get(key, []) + [now]
                docs.put(key, {"times": times})
        return now

    def succeeded(self, username: str, address: str, stamp: float) -> None:
        """A good password: forget the account's failures and this attempt of the address."""
        (user_key, _), (addr_key, _) = self._keys(username, address)
        with self.attempts.update() as docs:
            docs.remove(user_key)
            doc = docs.get(addr_key)
            if doc is not None:
                times = list(doc["times"])
                if stamp in times:
                    times.remove(stamp)
                docs.put(addr_key, {"times": times})

    @staticmethod
    def _prune(docs: Documents, horizon: float) -> dict[str, list[float]]:
        """Drop expired attempts (and keys left empty); return what is still recent."""
        recent = {}
        for key, doc in docs.all().items():
            times = [t for t in doc["times"] if t > horizon]
            if times:
                recent[key] = times
            else:
                docs.remove(key)
        return recent
