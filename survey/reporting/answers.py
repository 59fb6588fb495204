"""Aggregate answers kept per worker until one of the communes they cover changes.

Sixteen clients asking for the province's figures ask for the same answer again and again;
rolling up 151 communes' kept tallies and encoding the rows each time cost ~10 ms of CPU a
request. An answer is kept with the store's change token of the communes it covers (for
TinyDB: two ``stat`` calls a commune, no file opened), read *before* the answer is computed:
a write by any worker that lands meanwhile changes the token, so the next request computes
again and no answer outlives a write. Keys hold the exact communes in scope, so answers
are never shared across scopes; who may ask for which scope is decided before the lookup.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["KeptAnswers", "kept_answers", "etag_of"]

_PER_WORKER = 512  # answers kept: every level × the province, 11 districts and 151 communes fit


class KeptAnswers:
    """Values by key, each with the change token it was computed under; least recent dropped."""

    def __init__(self, limit: int = _PER_WORKER):
        self.limit = limit
        self._held: OrderedDict[Hashable, tuple[Hashable, Any]] = OrderedDict()
        self._lock = threading.Lock()  # threaded workers share one worker's answers

    def get(self, key: Hashable, token: Hashable | None, compute: Callable[[], Any]) -> Any:
        """The kept value of ``key`` if it was computed under ``token``, else ``compute()``
        kept under it. ``token`` must be read before anything ``compute`` reads."""
        if token is None:  # the store offers no token: nothing can be kept safely
            return compute()
        with self._lock:
            held = self._held.get(key)
            if held is not None and held[0] == token:
                self._held.move_to_end(key)
                return held[1]
        value = compute()
        with self._lock:
            self._held[key] = (token, value)
            self._held.move_to_end(key)
            while len(self._held) > self.limit:
                self._held.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every answer (a restore replaced the files)."""
        with self._lock:
            self._held.clear()


_KEPT: weakref.WeakKeyDictionary[Campaign, KeptAnswers] = weakref.WeakKeyDictionary()


def kept_answers(camp: Campaign) -> KeptAnswers:
    """The answers this worker keeps for ``camp``."""
    kept = _KEPT.get(camp)
    if kept is None:
        kept = _KEPT[camp] = KeptAnswers()
    return kept


def etag_of(body: bytes) -> str:
    """A strong validator of one encoded answer: a digest of its bytes."""
    return hashlib.blake2b(body, digest_size=12).hexdigest()
