"""What a backup must hold before restore installs it: real files, data that parses, records
the service can read, and accounts the service would have made.

A restore that installed a file the service cannot read would turn one bad file into a
province-wide outage; these checks run on the backup's copy before anything is replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from marshmallow import ValidationError

from .households.records import SERVER_FIELDS, content_of
from .users import AccountError

if TYPE_CHECKING:
    from .campaign import Campaign

__all__ = ["BackupError", "no_symlinks", "count_records", "check_files"]

_ACCOUNT_FIELDS = ("role", "password", "active")


class BackupError(Exception):
    """A backup that cannot be made or restored, with the reason."""


def no_symlinks(source: Path, rels: list[str]) -> None:
    """Refuse a backup whose directory or files are symbolic links (they could point anywhere)."""
    if source.is_symlink():
        raise BackupError(f"{source} is a symbolic link: give the backup directory itself")
    for rel in rels:
        path = source
        for part in Path(rel).parts:
            path = path / part
            if path.is_symlink():
                raise BackupError(f"{rel} is a symbolic link in the backup: refused")


def _tables(raw: bytes, rel: str) -> dict[str, dict]:
    """The tables of a collection file; BackupError if it is not one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BackupError(f"{rel} is not a valid data file: {exc}") from None
    if not isinstance(data, dict):
        raise BackupError(f"{rel} is not a valid data file: not a JSON object")
    tables = {k: t for k, t in data.items() if k != "_rev"}
    for name, table in tables.items():
        if not isinstance(table, dict) or not all(isinstance(d, dict) for d in table.values()):
            raise BackupError(f"{rel} is not a valid data file: table {name!r} does not hold records")
    return tables


def count_records(raw: bytes, rel: str) -> int:
    """How many records a collection file holds (all its tables); BackupError if it does not parse."""
    return sum(len(t) for t in _tables(raw, rel).values())


def _check_households(camp: Campaign, rel: str, table: dict, commune: int) -> None:
    schema = camp.schemas.schema("en")
    for key, record in table.items():
        missing = [f for f in ("id", *SERVER_FIELDS) if f not in record]
        if missing or record.get("id") != key or record.get("commune_code") != commune:
            raise BackupError(f"{rel}: household {key!r} lacks {', '.join(missing) or 'a matching id and commune'}")
        try:
            schema.load(content_of(record))
        except ValidationError as exc:
            raise BackupError(f"{rel}: household {key!r} breaks the form's rules: {exc.messages}") from None


def _check_users(camp: Campaign, table: dict) -> None:
    for name, user in table.items():
        if any(f not in user for f in _ACCOUNT_FIELDS) or not str(user["password"]).startswith(("scrypt:", "pbkdf2:")):
            raise BackupError(f"users.json: account {name!r} is not one the service made")
        try:
            camp.users.check_unit(user["role"], user.get("unit"))
        except AccountError as exc:
            raise BackupError(f"users.json: account {name!r}: {exc}") from None


def check_files(camp: Campaign, source: Path, rels: list[str]) -> None:
    """Every collection file of the backup parses, and households and accounts are sound."""
    backend = camp.households.backend
    for rel in rels:
        tables = _tables((source / rel).read_bytes(), rel)
        if backend.file_for(rel) is not None:
            _check_households(camp, rel, tables.get("households", {}), int(Path(rel).stem))
        elif rel == "users.json":
            _check_users(camp, tables.get("users", {}))

