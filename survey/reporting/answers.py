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

import gzip
import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import brotli

if TYPE_CHECKING:
    from ..campaign import Campaign

__all__ = ["KeptAnswers", "EncodedAnswer", "CODINGS", "kept_answers", "etag_of"]

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


# What a kept answer can be sent as besides itself, best first (brotli is ~25% smaller than gzip).
CODINGS: dict[str, Callable[[bytes, int], bytes]] = {
    "br": lambda body, level: brotli.compress(body, quality=level),
    "gzip": lambda body, level: gzip.compress(body, compresslevel=level, mtime=0),
}


class EncodedAnswer:
    """One answer as JSON bytes, with its tag and each compressed form, made once and kept.

    The Department's hamlet level is 577 KB of JSON: compressing it for every request cost
    more than everything else the request does. Kept with the answer, a compressed form is
    dropped with it when a write changes the token, so it is never staler than the JSON.
    """

    def __init__(self, body: bytes):
        self.body = body
        self.etag = etag_of(body)
        self._coded: dict[str, bytes] = {}

    def coded(self, coding: str, level: int) -> bytes:
        """The body compressed with ``coding`` (one of ``CODINGS``), made on first use."""
        held = self._coded.get(coding)
        if held is None:  # two threads may both make it: the same bytes, one kept
            held = self._coded[coding] = CODINGS[coding](self.body, level)
        return held
