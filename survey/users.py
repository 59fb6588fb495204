"""Accounts: users with a role and a unit, scrypt-hashed passwords, hashed API tokens.

Users live in ``<data>/users.json``; every request reads it through the decoded cache, so
an account added with the CLI works at once in every running worker.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from tinydb.table import Document
from werkzeug.security import check_password_hash, generate_password_hash

from .codes import is_code
from .gazetteer import Gazetteer
from .storage import Collection

__all__ = ["ROLES", "User", "UserStore", "AccountError"]

ROLES = ("officer", "district", "department", "agency")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
TOKEN_PREFIX = "bz_"
# Checked when a username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


class AccountError(ValueError):
    """An account request that cannot be carried out, with the reason."""


@dataclass(frozen=True)
class User:
    """A signed-in account and what it may reach."""

    username: str
    role: str
    unit: int | str  # a commune or district code, the province code, or an agency's code
    communes: frozenset[int]
    full_name: str = ""

    @property
    def writable(self) -> frozenset[int]:
        """Communes this user may submit and correct households in."""
        return self.communes if self.role in ("officer", "department") else frozenset()

    def can_read(self, commune_code: int) -> bool:
        return commune_code in self.communes

    def can_write(self, commune_code: int) -> bool:
        return commune_code in self.writable


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """The accounts of one data directory."""

    def __init__(self, data_dir: Path, gazetteer: Gazetteer,
                 agencies: Callable[[], Mapping[str, dict]] = dict):
        self.users = Collection(Path(data_dir) / "users.json", "users")
        self.tokens = Collection(Path(data_dir) / "tokens.json", "tokens")
        self.gazetteer = gazetteer
        self.agencies = agencies

    def check_unit(self, role: str, unit: int | str | None) -> int | str:
        """The unit a role works in: a commune, a district, the province itself, or an agency."""
        g = self.gazetteer
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if role == "agency":
            if unit not in self.agencies():
                raise AccountError("role agency needs --unit, the code of a reporting agency")
            return unit  # type: ignore[return-value]
        if isinstance(unit, str):
            if not is_code(unit):
                raise AccountError(f"unit must be a unit code of digits 0-9, not {unit!r}")
            unit = int(unit)
        if role == "department":
            if unit not in (None, g.province.code):
                raise AccountError(f"a department account covers the province ({g.province.code})")
            return g.province.code
        pool = g.communes if role == "officer" else g.districts
        if unit not in pool:
            what = "commune" if role == "officer" else "district"
            raise AccountError(f"role {role} needs --unit, the code of a {what} of {g.province.name}")
        return unit

    def add(self, username: str, password: str, role: str, unit: int | str | None,
            full_name: str = "") -> dict:
        """Create an account; the username must be new and the password at least 8 characters."""
        if not USERNAME.match(username):
            raise AccountError("a username is 2-40 characters: a-z, 0-9, '.', '_' or '-'")
        if len(password) < 8:
            raise AccountError("a password needs at least 8 characters")
        unit = self.check_unit(role, unit)
        doc = {"username": username, "role": role, "unit": unit, "full_name": full_name,
               "password": generate_password_hash(password), "active": True}
        with self.users.write() as table:
            if table.contains(doc_id=username):
                raise AccountError(f"user {username!r} exists already")
            table.insert(Document(doc, doc_id=username))
        return doc

    def update(self, username: str, **changes: object) -> dict:
        """Change stored fields of an account (password given in clear is hashed here)."""
        if "password" in changes:
            if len(str(changes["password"])) < 8:
                raise AccountError("a password needs at least 8 characters")
            changes["password"] = generate_password_hash(str(changes["password"]))
        with self.users.write() as table:
            doc = table.get(doc_id=username)
            if doc is None:
                raise AccountError(f"no user {username!r}")
            doc = {**doc, **changes}
            table.upsert(Document(doc, doc_id=username))
        return doc

    def all(self) -> list[dict]:
        """Every account (password hashes included: for administration code only)."""
        return [dict(d) for d in self.users.documents().values()]

    def exists(self, username: str) -> bool:
        return self.users.get(username) is not None

    def _user(self, doc: dict | None) -> User | None:
        if not doc or not doc.get("active", True):
            return None
        role, unit, g = doc["role"], doc["unit"], self.gazetteer
        if role == "officer":
            communes = frozenset([unit]) if unit in g.communes else frozenset()
        elif role == "district":
            communes = frozenset(g.communes_of.get(unit, ()))
        elif role == "agency":
            communes = frozenset()
        else:
            communes = frozenset(g.communes)
        return User(doc["username"], role, unit, communes, doc.get("full_name", ""))

    def load(self, username: str) -> User | None:
        """The active user of this name, as stored now."""
        return self._user(self.users.get(username))

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches; the same work is done for an unknown name."""
        doc = self.users.get(username)
        if doc is None:
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(doc["password"], password):
            return None
        return self._user(doc)

    def new_token(self, username: str) -> str:
        """A new API token for ``username``; only its hash is stored."""
        if not self.exists(username):
            raise AccountError(f"no user {username!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.tokens.put(_token_hash(token), {"username": username, "hash": _token_hash(token)})
        return token

    def by_token(self, token: str) -> User | None:
        """The user a bearer token belongs to, compared in constant time."""
        digest = _token_hash(token)
        doc = self.tokens.get(digest)
        if doc is None or not hmac.compare_digest(doc["hash"], digest):
            return None
        return self.load(doc["username"])
