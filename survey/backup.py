"""Backups of a data directory that stay consistent while the service takes writes.

``snapshot`` holds the lock of every collection at once (households of every commune,
users, tokens) while it copies them, so the copy is one moment of the whole directory:
a record acknowledged before the backup began is in it, and nothing half-written is.
Writers only ever hold one lock at a time, and locks are taken in sorted order, so this
cannot deadlock; writers wait (up to their lock timeout) while the copy runs.

A backup is a directory: the files as they are in the data directory plus
``MANIFEST.json`` (sha256 and record count of each file). It is written under a temporary
name and renamed at the end, so a backup that exists is complete. ``restore`` checks the
manifest before it changes anything, then replaces each file atomically under its lock.
Login attempts are not backed up: they only matter for fifteen minutes.
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

from .storage import Collection, StorageUnavailable, write_atomically

__all__ = ["BackupError", "snapshot", "restore", "MANIFEST"]

MANIFEST = "MANIFEST.json"
PLAIN_FILES = ("secret_key",)
_TABLES = {"users.json": "users", "tokens.json": "tokens"}
_HOUSEHOLDS = re.compile(r"households/[0-9]{1,9}\.json")


class BackupError(Exception):
    """A backup that cannot be made or restored, with the reason."""


def _collections(data_dir: Path, communes: list[int]) -> dict[str, Collection]:
    """Every collection a data directory may hold, by path relative to it, in lock order."""
    found = {f"households/{int(code)}.json" for code in communes}
    found |= {f"households/{p.name}" for p in (data_dir / "households").glob("*.json")}
    paths = {rel: "households" for rel in found}
    paths.update(_TABLES)
    return {rel: Collection(data_dir / rel, table) for rel, table in sorted(paths.items())}


def _lock_all(stack: ExitStack, collections: dict[str, Collection]) -> None:
    for rel in sorted(collections):
        stack.enter_context(collections[rel].locked())


def _records(raw: bytes, table: str, rel: str) -> int:
    """How many records a collection file holds; BackupError if it does not parse."""
    try:
        return len(orjson.loads(raw).get(table, {}))
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
            if coll.path.exists():
                raw = coll.path.read_bytes()
                files[rel] = {"sha256": hashlib.sha256(raw).hexdigest(),
                              "records": _records(raw, coll.table_name, rel)}
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
        if not (_HOUSEHOLDS.fullmatch(rel) or rel in _TABLES or rel in PLAIN_FILES):
            raise BackupError(f"{rel!r} is not a file a backup holds")
        path = source / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
            raise BackupError(f"{rel} is missing or damaged in {source}")
    return manifest


def restore(source: Path, data_dir: Path, communes: list[int], force: bool = False) -> dict:
    """Make ``data_dir`` hold exactly the backup ``source``; refuses to overwrite households unless forced."""
    manifest = verify(source)
    collections = _collections(data_dir, communes)
    collections.update({rel: Collection(data_dir / rel, "households")
                        for rel in manifest["files"] if rel.startswith("households/")})
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
            if rel in manifest["files"]:
                write_atomically(coll.path, (source / rel).read_bytes())
            elif coll.path.exists():
                coll.path.unlink()
    for name in PLAIN_FILES:
        if name in manifest["files"]:
            write_atomically(data_dir / name, (source / name).read_bytes())
