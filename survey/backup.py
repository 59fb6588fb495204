"""Backups of a data directory that stay consistent while the service takes writes.

``snapshot`` holds the lock of every collection at once (households of every commune, their
history and review flags, users, tokens, agencies and their reports, settings, the account
log) while it copies them, so the copy is one moment of the whole directory:
a record acknowledged before the backup began is in it, and nothing half-written is.
Writers only ever hold one lock at a time, and locks are taken in sorted order, so this
cannot deadlock; writers wait (up to their lock timeout) while the copy runs.

A backup is a directory: the files as they are in the data directory plus
``MANIFEST.json`` (sha256 and record count of each file). It is written under a temporary
name and renamed at the end, so a backup that exists is complete. ``restore`` checks the
manifest before it changes anything, then replaces each file atomically under its lock.
Each commune's change log is folded into its file under the lock first, so the copy holds
every acknowledged submission. Login attempts are not backed up: they only matter for
fifteen minutes; the files kept beside communes (id hashes, hamlet tallies) are rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
from contextlib import ExitStack
from pathlib import Path

import orjson

from .storage import Collection, LoggedCollection, StorageUnavailable, write_atomically

__all__ = ["BackupError", "snapshot", "restore", "MANIFEST"]

MANIFEST = "MANIFEST.json"
PLAIN_FILES = ("secret_key",)
NOT_BACKED_UP = {"login_attempts.json"}
_COLLECTION = re.compile(r"(?:[a-z_-]+/)?[0-9a-z_-]+\.json")
_HOUSEHOLDS = re.compile(r"households/[0-9]{1,9}\.json")


class BackupError(Exception):
    """A backup that cannot be made or restored, with the reason."""


def _collection(data_dir: Path, rel: str) -> Collection:
    """The collection at ``rel``; communes' files with their change log."""
    if _HOUSEHOLDS.fullmatch(rel):
        return LoggedCollection(data_dir / rel, "households")
    return Collection(data_dir / rel, "")


def _collections(data_dir: Path, communes: list[int]) -> dict[str, Collection]:
    """Every collection a data directory holds (and every commune's), by relative path, in lock order."""
    found = {f"households/{int(code)}.json" for code in communes}
    for path in data_dir.rglob("*.json"):
        rel = path.relative_to(data_dir).as_posix()
        if _COLLECTION.fullmatch(rel) and rel not in NOT_BACKED_UP:
            found.add(rel)
    return {rel: _collection(data_dir, rel) for rel in sorted(found)}


def _lock_all(stack: ExitStack, collections: dict[str, Collection]) -> None:
    for rel in sorted(collections):
        stack.enter_context(collections[rel].locked())


def _records(raw: bytes, rel: str) -> int:
    """How many records a collection file holds (all its tables); BackupError if it does not parse."""
    try:
        return sum(len(t) for k, t in orjson.loads(raw).items() if k != "_rev" and isinstance(t, dict))
    except (orjson.JSONDecodeError, AttributeError) as exc:
        raise BackupError(f"{rel} is not a valid data file: {exc}") from None


def _write_file(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())


def snapshot(data_dir: Path, target: Path, communes: list[int]) -> dict:
    """Copy ``data_dir`` to the new directory ``target`` as one consistent moment; the manifest."""
    if target.exists():
        raise BackupError(f"{target} exists already: give a new path")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        return _copy(data_dir, target, partial, communes)
    except (OSError, StorageUnavailable, BackupError) as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(f"no backup was made: {exc}") from None


def _copy(data_dir: Path, target: Path, partial: Path, communes: list[int]) -> dict:
    """The snapshot itself, into ``partial``, renamed to ``target`` once whole."""
    collections = _collections(data_dir, communes)
    files: dict[str, dict] = {}
    with ExitStack() as stack:
        _lock_all(stack, collections)
        for rel, coll in collections.items():
            if isinstance(coll, LoggedCollection):
                try:
                    coll.fold_locked()
                except ValueError as exc:  # a snapshot or log that does not parse
                    raise BackupError(f"{rel} is not a valid data file: {exc}") from None
            if coll.path.exists():
                raw = coll.path.read_bytes()
                files[rel] = {"sha256": hashlib.sha256(raw).hexdigest(), "records": _records(raw, rel)}
                _write_file(partial / rel, raw)
        taken = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    for name in PLAIN_FILES:
        if (data_dir / name).exists():
            raw = (data_dir / name).read_bytes()
            files[name] = {"sha256": hashlib.sha256(raw).hexdigest()}
            _write_file(partial / name, raw)
    manifest = {"taken_at": taken, "files": files}
    _write_file(partial / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    os.replace(partial, target)
    return manifest


def verify(source: Path) -> dict:
    """The manifest of a backup after checking every file against it; BackupError if not."""
    try:
        manifest = orjson.loads((source / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise BackupError(f"{source} is not a backup: {exc}") from None
    for rel, meta in manifest["files"].items():
        if not ((_COLLECTION.fullmatch(rel) and rel not in NOT_BACKED_UP) or rel in PLAIN_FILES):
            raise BackupError(f"{rel!r} is not a file a backup holds")
        path = source / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
            raise BackupError(f"{rel} is missing or damaged in {source}")
    return manifest


def restore(source: Path, data_dir: Path, communes: list[int], force: bool = False) -> dict:
    """Make ``data_dir`` hold exactly the backup ``source``; refuses to overwrite households unless forced."""
    manifest = verify(source)
    collections = _collections(data_dir, communes)
    collections.update({rel: _collection(data_dir, rel) for rel in manifest["files"] if rel not in PLAIN_FILES})
    if not force and any(c.path.exists() for rel, c in collections.items() if rel.startswith("households/")):
        raise BackupError(f"{data_dir} holds households already: use --force to replace them")
    try:
        _replace(source, data_dir, collections, manifest)
    except (OSError, StorageUnavailable) as exc:
        raise BackupError(f"restore stopped, the data directory may be partly restored: {exc}") from None
    return manifest


def _replace(source: Path, data_dir: Path, collections: dict[str, Collection], manifest: dict) -> None:
    """Each file replaced atomically under its lock; collections absent from the backup removed."""
    with ExitStack() as stack:
        _lock_all(stack, collections)
        for rel, coll in collections.items():
            if isinstance(coll, LoggedCollection):
                coll.discard_log()  # the backup's file already holds what the log had then
            if rel in manifest["files"]:
                write_atomically(coll.path, (source / rel).read_bytes())
            elif coll.path.exists():
                coll.path.unlink()
    for name in PLAIN_FILES:
        if name in manifest["files"]:
            write_atomically(data_dir / name, (source / name).read_bytes())
