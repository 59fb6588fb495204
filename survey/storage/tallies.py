"""Per-commune summaries kept in a file beside each commune, so figures never start from zero.

After each new snapshot of a commune, its summary (a tally) is written beside it. A request
for the commune's figures then reads that tally and adds only the records logged since, so
neither a cold start nor a reload after a write goes over a whole commune again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .files import write_derived
from .idindex import id_hash, read_id_file, sorted_has
from .logged import LoggedCollection

__all__ = ["KeptSummary", "KeptTallies"]


@dataclass(frozen=True)
class KeptSummary:
    """A per-commune summary the store keeps beside each shard: tally records, add two
    tallies (in record order), and turn a tally into the value ``derived`` returns.
    Tallies are stored as JSON, so they must be made of dicts, lists, strings and numbers."""

    tally: Callable[[list[dict]], Any]
    merge: Callable[[Any, Any], Any]
    finish: Callable[[Any], Any]
    version: str = ""  # change it when the tally's shape changes: older files are then ignored
    # What a worker holds of a kept tally, when that is smaller than the JSON (the search
    # index holds itself built, not the tally too), and how a tally of later records is
    # added to it; ``finish`` then takes the held value.
    hold: Callable[[Any], Any] | None = None
    add: Callable[[Any, Any], Any] | None = None

    def held(self, tally: Any) -> Any:
        """What a worker keeps of ``tally``."""
        return tally if self.hold is None else self.hold(tally)

    def added(self, held: Any, tally: Any) -> Any:
        """The held value of a commune's records followed by the records ``tally`` counts."""
        return self.merge(held, tally) if self.add is None else self.add(held, tally)


class KeptTallies:
    """The kept summaries of every commune under ``root``: written on snapshot, read on demand."""

    def __init__(self, root: Path):
        self.root = root
        self.kinds: dict[str, KeptSummary] = {}
        self._bases: dict[tuple[int, str], tuple[str, Any, int, str | None]] = {}

    def forget(self) -> None:
        """Drop what is held (the files were replaced: a restore)."""
        self._bases.clear()

    def path(self, commune_code: int, name: str) -> Path:
        """The file holding one commune's tally ``name``."""
        return self.root / f"{int(commune_code)}.{name}.tally"

    def on_snapshot(self, shard: LoggedCollection, rev: str, table: dict) -> None:
        """Under the shard's lock, after its snapshot changed: write its tallies."""
        code = int(shard.path.stem)
        for name, kept in self.kinds.items():
            self._kept(code, name, rev, kept.tally(list(table.values())))

    def extending(self, shard: LoggedCollection, rev: str) -> _Extension | None:
        """Under the shard's lock, before records are spliced after snapshot ``rev``: its kept
        tallies, to be extended by the new records; None when one is missing or stale."""
        code = int(shard.path.stem)
        tallies = {}
        for name, kept in self.kinds.items():
            try:
                held = orjson.loads(self.path(code, name).read_bytes())
            except (FileNotFoundError, orjson.JSONDecodeError):
                return None
            if not isinstance(held, dict) or held.get("rev") != rev or held.get("version") != kept.version:
                return None
            tallies[name] = held["tally"]
        return _Extension(self, code, tallies)

    def _kept(self, code: int, name: str, rev: str, tally: Any) -> None:
        """Write ``tally`` as that of snapshot ``rev`` and hold it."""
        kept = self.kinds[name]
        write_derived(self.path(code, name), orjson.dumps({"rev": rev, "version": kept.version, "tally": tally}))
        self._bases[(code, name)] = (rev, kept.held(tally), 0, None)

    def _base(self, commune_code: int, name: str, rev: str, changes: list[list]) -> tuple[Any, int] | None:
        """(what is held of snapshot ``rev`` and the first changes of its log, how many of
        them), from memory or from the kept file; None if the file is stale."""
        held = self._bases.get((commune_code, name))
        if held is not None and held[0] == rev and held[2] <= len(changes) and \
                (not held[2] or changes[held[2] - 1][1] == held[3]):
            return held[1], held[2]
        try:
            kept = orjson.loads(self.path(commune_code, name).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):
            return None
        if not isinstance(kept, dict) or kept.get("rev") != rev or kept.get("version") != self.kinds[name].version:
            return None
        value = self.kinds[name].held(kept["tally"])
        self._bases[(commune_code, name)] = (rev, value, 0, None)
        return value, 0

    def current(self, shard: LoggedCollection, name: str) -> Any | None:
        """The kept tally plus the logged records; None when the log changes earlier records.

        What is held grows with the log (the records added since it was last asked for), in
        place of the snapshot's alone: a worker holds one copy of a commune's summary, not
        the snapshot's and the snapshot-plus-log's side by side."""
        kept = self.kinds[name]
        rev, changes = shard.pending()
        if not rev or not self._only_new(shard, rev, changes):
            return None
        code = int(shard.path.stem)
        base = self._base(code, name, rev, changes)
        if base is None:
            return None
        held, covered = base
        if covered < len(changes):
            held = kept.added(held, kept.tally([c[2] for c in changes[covered:]]))
            self._bases[(code, name)] = (rev, held, len(changes), changes[-1][1])
        return kept.finish(held)

    @staticmethod
    def _only_new(shard: LoggedCollection, rev: str, changes: list[list]) -> bool:
        """Whether the log only adds records the snapshot does not hold, each once."""
        if not changes:
            return True
        keys = [c[1] for c in changes]
        if any(c[0] != "put" for c in changes) or len(set(keys)) != len(keys):
            return False
        ids = read_id_file(shard.ids_path, rev)
        return ids is not None and not any(sorted_has(ids, id_hash(k)) for k in keys)


class _Extension:
    """A commune's kept tallies with the records spliced after its snapshot added, chunk by chunk."""

    def __init__(self, tallies: KeptTallies, code: int, bases: dict[str, Any]):
        self.tallies, self.code = tallies, code
        self.bases = bases
        self.added: dict[str, Any] = {}

    def add(self, records: list[dict]) -> None:
        """Count the next records (in the order they are written)."""
        for name, kept in self.tallies.kinds.items():
            if name in self.bases:
                tally = kept.tally(records)
                self.added[name] = tally if name not in self.added else kept.merge(self.added[name], tally)

    def write(self, rev: str) -> None:
        """Keep the tallies as those of the new snapshot ``rev``."""
        for name, base in self.bases.items():
            kept = self.tallies.kinds[name]
            self.tallies._kept(self.code, name, rev, kept.merge(base, self.added[name]) if name in self.added else base)
