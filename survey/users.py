"""Accounts: users with a role and a unit, scrypt-hashed passwords, hashed API tokens.

Users live in the collection ``users`` (``<data>/users.json``, or the database), read afresh
by every request, so an account added with the CLI works at once in every worker and host.

Each account keeps a credential ``generation``: a password reset or change, a deactivation
and ``revoke_tokens`` advance it, and every session and API token carries the generation it
was made under, so all of them stop at once. ``sessions`` is a second counter that logging
out advances: it ends the account's sessions (a copied cookie too) but leaves its tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from werkzeug.security import check_password_hash, generate_password_hash

from .codes import is_code
from .gazetteer import Gazetteer
from .i18n import gettext, translate
from .memory import give_back
from .policy import ROLES, communes_for, writable
from .storage import DocumentSpace
from .text import BadText, human_text

__all__ = ["ROLES", "User", "UserStore", "AccountError", "PasswordRefused", "check_password"]

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
TOKEN_PREFIX = "bz_"
# Checked when a username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a password")


class AccountError(ValueError):
    """An account request that cannot be carried out, with the reason."""


class PasswordRefused(AccountError):
    """A password change refused; ``key`` names the message in the catalogues."""

    def __init__(self, key: str):
        super().__init__(translate(key, "en"))
        self.key = key


@dataclass(frozen=True)
class User:
    """A signed-in account and what it may reach."""

    username: str
    role: str
    unit: int | str  # a commune or district code, the province code, or an agency's code
    communes: frozenset[int]
    full_name: str = ""
    generation: int = 0  # credentials made under another generation are void
    sessions: int = 0  # sessions made under another count are void (logout advances it)
    must_change: bool = False  # signed in with a one-time password: nothing else until changed

    @property
    def writable(self) -> frozenset[int]:
        """Communes this user may submit and correct households in."""
        return writable(self.role, self.communes)

    def can_read(self, commune_code: int) -> bool:
        return commune_code in self.communes

    def can_write(self, commune_code: int) -> bool:
        return commune_code in self.writable


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_BUILT_KEPT = 4096  # accounts whose User is kept per worker (a province has a few hundred)


class UserStore:
    """The accounts of one data directory."""

    def __init__(self, space: DocumentSpace, gazetteer: Gazetteer,
                 agencies: Callable[[], Mapping[str, dict]] = dict):
        self.users = space.collection("users", "users")
        self.tokens = space.collection("tokens", "tokens")
        self.gazetteer = gazetteer
        self.agencies = agencies
        self._built: dict[str, tuple[dict, User]] = {}  # username -> (the document read, its User)

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
            full_name: str = "", one_time: bool = False) -> dict:
        """Create an account; the username must be new and the password at least 8 characters.

        A ``one_time`` password must be changed at the first login.
        """
        if not USERNAME.match(username):
            raise AccountError("a username is 2-40 characters: a-z, 0-9, '.', '_' or '-'")
        check_password(password)
        try:
            full_name = human_text(full_name)
        except BadText as exc:
            raise AccountError(f"full name: {gettext('bad_chars', chars=exc.chars)}") from None
        unit = self.check_unit(role, unit)
        doc = {"username": username, "role": role, "unit": unit, "full_name": full_name,
               "password": generate_password_hash(password), "active": True, "generation": 0,
               "sessions": 0, "must_change": one_time}
        with self.users.update() as docs:
            if username in docs:
                raise AccountError(f"user {username!r} exists already")
            docs.put(username, doc)
        return doc

    def update(self, username: str, **changes: object) -> dict:
        """Change stored fields of an account (password given in clear is hashed here).

        ``revoke=True`` advances the credential generation: every session and token ends.
        """
        revoke = bool(changes.pop("revoke", False))
        if "password" in changes:
            check_password(str(changes["password"]))
            changes["password"] = generate_password_hash(str(changes["password"]))
        with self.users.update() as docs:
            doc = docs.get(username)
            if doc is None:
                raise AccountError(f"no user {username!r}")
            doc = {**doc, **changes}
            if revoke:
                doc["generation"] = doc.get("generation", 0) + 1
            docs.put(username, doc)
        return doc

    def all(self) -> list[dict]:
        """Every account (password hashes included: for administration code only)."""
        return [dict(d) for d in self.users.documents().values()]

    def exists(self, username: str) -> bool:
        return self.users.get(username) is not None

    def _user(self, doc: dict | None) -> User | None:
        """The User of a stored document, read fresh by the caller; built again only when that
        document differs from the one last built (every request of a token asks)."""
        if not doc or not doc.get("active", True):
            return None
        kept = self._built.get(doc["username"])
        if kept is not None and kept[0] == doc:
            return kept[1]
        role, unit = doc["role"], doc["unit"]
        communes = communes_for(role, unit, self.gazetteer)
        user = User(doc["username"], role, unit, communes, doc.get("full_name", ""), doc.get("generation", 0),
                    doc.get("sessions", 0), doc.get("must_change", False))
        if kept is not None or len(self._built) < _BUILT_KEPT:
            self._built[doc["username"]] = (dict(doc), user)
        return user

    def load(self, username: str) -> User | None:
        """The active user of this name, as stored now."""
        return self._user(self.users.get(username))

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches; the same work is done for an unknown name. The
        worker's free memory goes back first: scrypt fills 32 MB on top of what it holds."""
        give_back()
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
        generation = self.users.get(username).get("generation", 0)
        self.tokens.put(_token_hash(token), {"username": username, "hash": _token_hash(token),
                                             "generation": generation})
        return token

    def by_token(self, token: str) -> User | None:
        """The user a bearer token belongs to, if the token's generation is still the account's."""
        digest = _token_hash(token)
        doc, account = self.tokens.get_with(digest, self.users, "username")
        if doc is None or not hmac.compare_digest(doc["hash"], digest):
            return None
        user = self._user(account)
        return user if user is not None and doc.get("generation", 0) == user.generation else None

    def revoke_tokens(self, username: str) -> int:
        """End every token and session of ``username``; the number of tokens deleted."""
        self.update(username, revoke=True)
        with self.tokens.update() as docs:
            gone = [key for key, d in docs.all().items() if d["username"] == username]
            for key in gone:
                docs.remove(key)
        return len(gone)

    def end_sessions(self, username: str) -> None:
        """Void every session cookie of ``username`` (logout), tokens untouched."""
        with self.users.update() as docs:
            doc = docs.get(username)
            if doc is not None:
                docs.put(username, {**doc, "sessions": doc.get("sessions", 0) + 1})

    def change_password(self, username: str, current: str, new: str) -> User:
        """The holder's own change: the current password is needed, the new one must differ."""
        if new == current:
            raise PasswordRefused("password_same")
        if len(new) < 8:
            raise PasswordRefused("password_short")
        if self.authenticate(username, current) is None:
            raise PasswordRefused("password_wrong")
        self.update(username, password=new, must_change=False, revoke=True)
        return self.load(username)  # type: ignore[return-value]


def check_password(password: str) -> None:
    """The password rule for every account, however it is set: at least 8 characters."""
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
