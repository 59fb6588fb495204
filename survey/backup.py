"""Backups of a data directory that stay consistent while the service takes writes.

``snapshot`` holds the lock of every collection the stores keep (households of every
commune, their history and review flags, users, tokens, agencies and their reports,
settings, the account log) while it copies them, so the copy is one moment of the whole
directory: a record acknowledged before the backup began is in it, and nothing half-written
is. Writers only ever hold one of these locks at a time, and locks are taken in sorted
order, so this cannot deadlock; writers wait (up to their lock timeout) while the copy runs.

A backup is a directory: the files as they are in the data directory plus
``MANIFEST.json`` (sha256 and record count of each file), signed with HMAC-SHA256 under the
backup key, which never goes into a backup (``<data>/backup.key``, or ``SURVEY_BACKUP_KEY``).
It is written under a fresh temporary name and renamed at the end, so a backup that exists
is complete. ``restore`` checks the signature, every hash and the content of every file
(``backup_checks``) before it changes anything, then replaces each file atomically under its
lock. Login attempts are not backed up (they matter for fifteen minutes); the files kept
beside communes (id hashes, tallies, id claims) are rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from .backup_checks import BackupError, check_files, count_records, no_symlinks
from .storage import Collection, StorageUnavailable, write_atomically
from .storage.tinydb_documents import TinyDBDocumentSpace

if TYPE_CHECKING:
    from .campaign import Campaign

__all__ = ["BackupError", "snapshot", "restore", "MANIFEST", "KEY_FILE"]

MANIFEST = "MANIFEST.json"
KEY_FILE = "backup.key"
PLAIN_FILES = ("secret_key",)


def in_database(camp: Campaign) -> None:
    """Refuse when the campaign is kept in PostgreSQL: nothing of it is in the data directory."""
    if not isinstance(camp.documents, TinyDBDocumentSpace):
        raise BackupError("households, accounts and every other store are kept in PostgreSQL "
                          "(SURVEY_DATABASE_URL), not in the data directory: back the database up with "
                          "PostgreSQL's tools (pg_dump -Fc, or base backups with WAL archiving)")


def collections(camp: Campaign, communes: list[int]) -> dict[str, Collection]:
    """Every collection the stores keep, by path relative to the data directory, in lock order."""
    found: dict[str, Collection] = dict(camp.households.backend.backup_files(communes))
    for coll in camp.backed_up_collections():
        found[coll.path.relative_to(camp.data_dir).as_posix()] = coll
    return dict(sorted(found.items()))


def collection_at(camp: Campaign, rel: str) -> Collection | None:
    """The collection a store would keep at ``rel``; None if no store keeps such a file."""
    owned = camp.households.backend.file_for(rel)
    if owned is not None:
        return owned
    for coll in camp.backed_up_collections():
        if coll.path.relative_to(camp.data_dir).as_posix() == rel:
            return coll
    name = rel.removesuffix(".json")
    for prefix in (camp.history.prefix, camp.flags.prefix):
        shard = name.removeprefix(prefix)
        if rel.endswith(".json") and name.startswith(prefix) and shard.replace("-", "").isalnum():
            return camp.documents.collection(name, "")  # type: ignore[return-value]
    return None


def backup_key(camp: Campaign, key_file: Path | None = None, create: bool = False) -> bytes | None:
    """The key that signs backups: ``key_file``, else SURVEY_BACKUP_KEY, else ``<data>/backup.key``."""
    if key_file is not None:
        return key_file.read_bytes().strip()
    if os.environ.get("SURVEY_BACKUP_KEY"):
        return os.environ["SURVEY_BACKUP_KEY"].encode()
    path = camp.data_dir / KEY_FILE
    if create and not path.exists():
        write_atomically(path, secrets.token_hex(32).encode())
    return path.read_bytes().strip() if path.exists() else None


def _signature(key: bytes, manifest: dict) -> str:
    body = orjson.dumps({"taken_at": manifest["taken_at"], "files": manifest["files"]}, option=orjson.OPT_SORT_KEYS)
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def snapshot(camp: Campaign, target: Path) -> dict:
    """Copy the data directory to the new directory ``target`` as one consistent moment; the manifest."""
    in_database(camp)
    target = Path(os.path.abspath(target))
    if _inside(target.resolve(), camp.data_dir.resolve()):
        raise BackupError(f"{target} is inside the data directory: keep backups elsewhere")
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} exists already: give a new path")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        return _copy(camp, target, partial)
    except (OSError, StorageUnavailable, BackupError) as exc:
        shutil.rmtree(partial, ignore_errors=True)  # made by this call, under a name nobody else has
        raise BackupError(f"no backup was made: {exc}") from None


def _write_file(path: Path, raw: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(raw)
        fh.flush()
        os.fsync(fh.fileno())


def _copy(camp: Campaign, target: Path, partial: Path) -> dict:
    """The snapshot itself, into ``partial``, renamed to ``target`` once whole."""
    backend = camp.households.backend
    found = collections(camp, list(camp.gazetteer.communes))
    files: dict[str, dict] = {}
    with ExitStack() as stack:
        for coll in found.values():
            stack.enter_context(coll.locked())
        for rel, coll in found.items():
            if backend.file_for(rel) is not None:
                backend.prepare_copy(coll)
            if coll.path.exists():
                raw = coll.path.read_bytes()
                files[rel] = {"sha256": hashlib.sha256(raw).hexdigest(), "records": count_records(raw, rel)}
                _write_file(partial / rel, raw)
        taken = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for name in PLAIN_FILES:
        if (camp.data_dir / name).exists():
            raw = (camp.data_dir / name).read_bytes()
            files[name] = {"sha256": hashlib.sha256(raw).hexdigest()}
            _write_file(partial / name, raw)
    manifest = {"taken_at": taken, "files": files}
    manifest["signature"] = _signature(backup_key(camp, create=True) or b"", manifest)
    _write_file(partial / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    os.replace(partial, target)
    return manifest


def verify(camp: Campaign, source: Path, key_file: Path | None = None) -> dict:
    """The manifest of a backup after checking its signature and every file; BackupError if not."""
    no_symlinks(source, [MANIFEST])
    try:
        manifest = orjson.loads((source / MANIFEST).read_bytes())
        files = manifest["files"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise BackupError(f"{source} is not a backup: {exc}") from None
    key = backup_key(camp, key_file)
    if key is None:
        raise BackupError(f"no backup key to check {source} with: give --key-file (the {KEY_FILE} of the "
                          "data directory the backup was taken from) or set SURVEY_BACKUP_KEY")
    if not hmac.compare_digest(str(manifest.get("signature", "")), _signature(key, manifest)):
        raise BackupError(f"{source} is not signed by this backup key: it was altered or comes from elsewhere")
    for rel in files:
        if rel not in PLAIN_FILES and collection_at(camp, rel) is None:
            raise BackupError(f"{rel!r} is not a file a backup holds")
    no_symlinks(source, list(files))
    for rel, meta in files.items():
        path = source / rel
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != meta.get("sha256"):
            raise BackupError(f"{rel} is missing or damaged in {source}")
    check_files(camp, source, [rel for rel in files if rel not in PLAIN_FILES])
    return manifest


def restore(camp: Campaign, source: Path, force: bool = False, key_file: Path | None = None) -> dict:
    """Make the data directory hold exactly the backup ``source``; refuses to overwrite
    households unless forced, and changes nothing when it refuses."""
    in_database(camp)
    manifest = verify(camp, source, key_file)
    found = collections(camp, list(camp.gazetteer.communes))
    for rel in manifest["files"]:
        if rel not in PLAIN_FILES:
            found.setdefault(rel, collection_at(camp, rel))  # type: ignore[arg-type]
    found = dict(sorted(found.items()))
    backend = camp.households.backend
    if not force and any(c.path.exists() for rel, c in found.items() if backend.file_for(rel) is not None):
        raise BackupError(f"{camp.data_dir} holds households already: use --force to replace them")
    try:
        _replace(camp, source, found, manifest)
    except (OSError, StorageUnavailable) as exc:
        raise BackupError(f"restore stopped, the data directory may be partly restored: {exc}") from None
    backend.restored()
    return manifest


def _replace(camp: Campaign, source: Path, found: dict[str, Collection], manifest: dict) -> None:
    """Each file replaced atomically under its lock; collections absent from the backup removed."""
    with ExitStack() as stack:
        for coll in found.values():
            stack.enter_context(coll.locked())
        for rel, coll in found.items():
            if rel in manifest["files"]:
                coll.replace_file((source / rel).read_bytes())
            elif coll.path.exists():
                coll.remove_file()
    for name in PLAIN_FILES:
        if name in manifest["files"]:
            write_atomically(camp.data_dir / name, (source / name).read_bytes())
