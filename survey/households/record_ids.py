"""The record ids of one commune's search index, in record order, compactly.

The service gives every household a UUID (phones make them, imports derive them), written
as 36 characters. Held as their 16 bytes in one numpy array, a million ids take 16 MB of a
worker instead of the 41 MB of joined text and row offsets. Ids that are not canonical
UUIDs (a file restored from elsewhere, say) are held as text instead, so nothing is lost.
"""

from __future__ import annotations

import re
import uuid

import numpy as np

__all__ = ["RecordIds"]

_END = "\n"
_CANONICAL = re.compile(r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\n)*")
# The hex digits' columns in a line "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n".
_HEX = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


class RecordIds:
    """Ids by row: 16 bytes each when all are canonical UUIDs, else their UTF-8 text."""

    def __init__(self, keys: np.ndarray, uuids: bool):
        self.keys = keys  # dtype S16 (UUID bytes) or S<n> (text)
        self.uuids = uuids

    @classmethod
    def of(cls, joined: str, size: int) -> RecordIds:
        """The ids of a tally's joined text ("id\\n" per record)."""
        if len(joined) == 37 * size and _CANONICAL.fullmatch(joined):
            lines = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(size, 37)[:, _HEX]
            nibbles = np.where(lines >= ord("a"), lines - (ord("a") - 10), lines - ord("0"))
            packed = (nibbles[:, 0::2] << 4 | nibbles[:, 1::2]).astype(np.uint8)
            return cls(np.ascontiguousarray(packed).view("S16").reshape(size), True)
        return cls.of_text(joined.split(_END)[:size])

    @classmethod
    def of_text(cls, ids: list[str]) -> RecordIds:
        """Ids held as their text (some id is not a canonical UUID)."""
        return cls(np.array([i.encode() for i in ids] or [b""], dtype="S")[:len(ids)], False)

    def __len__(self) -> int:
        return len(self.keys)

    def at(self, row: int) -> str:
        """The id of one row."""
        key = self.keys[row]
        return str(uuid.UUID(bytes=key.ljust(16, b"\0"))) if self.uuids else key.decode()

    def holding(self, record_ids: list[str]) -> np.ndarray:
        """Which rows hold one of ``record_ids``."""
        wanted = [k for k in map(self._key, record_ids) if k is not None]
        if not wanted or not len(self.keys):
            return np.zeros(len(self.keys), dtype=bool)
        return np.isin(self.keys, np.array(wanted, dtype=self.keys.dtype if self.uuids else "S"))

    def _key(self, record_id: str) -> bytes | None:
        if not self.uuids:
            return record_id.encode()
        if len(record_id) != 36 or not _CANONICAL.fullmatch(record_id + _END):
            return None  # not a canonical UUID: no row holds it
        return uuid.UUID(record_id).bytes

    def extended(self, other: RecordIds) -> RecordIds:
        """These ids, then ``other``'s."""
        if self.uuids and other.uuids:
            return RecordIds(np.concatenate([self.keys, other.keys]), True)
        return RecordIds.of_text([self.at(r) for r in range(len(self))] + [other.at(r) for r in range(len(other))])
