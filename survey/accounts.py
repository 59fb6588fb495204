"""Account administration: who may manage whom, bulk creation from a list, and a change log.

The Department manages every account; district staff manage the officers of their own
district. Every change is logged with who made it and when; passwords never are.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING

from .i18n import gettext
from .policy import may_manage
from .storage import DocumentSpace
from .text import BadText, fold, human_text
from .uploads import Limits, UploadError, read_table
from .users import USERNAME, AccountError, User

if TYPE_CHECKING:
    from .campaign import Campaign

__all__ = ["AccountLog", "ListRefused", "change_own_password", "create", "create_many",
           "read_account_rows", "reset_password", "set_active"]

# An account list is short (a province has a few hundred officers) and each account costs a
# password hash, so a list holds at most this many rows.
ACCOUNT_LIMITS = Limits(rows=301, columns=16, cells=301 * 16)


class AccountLog:
    """Append-only log of account changes (the collection ``account-log``)."""

    def __init__(self, space: DocumentSpace):
        self.coll = space.collection("account-log", "changes")

    def add(self, by: str, at: str, action: str, username: str, detail: str = "") -> None:
        key = f"{at}-{secrets.token_hex(4)}"
        self.coll.put(key, {"at": at, "by": by, "action": action, "username": username, "detail": detail})

    def entries(self, usernames: Iterable[str] | None = None) -> list[dict]:
        """Newest first, optionally only about ``usernames``."""
        wanted = set(usernames) if usernames is not None else None
        docs = [d for d in self.coll.documents().values() if wanted is None or d["username"] in wanted]
        return sorted(docs, key=lambda d: d["at"], reverse=True)


def _check(camp: Campaign, actor: User, role: str, unit: int | None) -> int:
    unit = camp.users.check_unit(role, unit)
    if not may_manage(actor, role, unit, camp.gazetteer):
        raise PermissionError(f"{actor.username} may not manage {role} accounts of unit {unit}")
    return unit


def create(camp: Campaign, log: AccountLog, actor: User, username: str, full_name: str, role: str,
           unit: int | None) -> str:
    """Create an account with a one-time password, which is returned to hand to its owner."""
    unit = _check(camp, actor, role, unit)
    password = secrets.token_urlsafe(9)
    doc = camp.users.add(username, password, role, unit, full_name, one_time=True)
    log.add(actor.username, camp.stamp(), "create", username, f"{role} {unit} {doc['full_name']}".strip())
    return password


def _existing(camp: Campaign, actor: User, username: str) -> dict:
    doc = camp.users.users.get(username)
    if doc is None:
        raise AccountError(f"no user {username!r}")
    _check(camp, actor, doc["role"], doc["unit"])
    return doc


def reset_password(camp: Campaign, log: AccountLog, actor: User, username: str) -> str:
    """A new one-time password for an account the actor manages; its sessions and tokens end."""
    _existing(camp, actor, username)
    password = secrets.token_urlsafe(9)
    camp.users.update(username, password=password, must_change=True, revoke=True)
    log.add(actor.username, camp.stamp(), "reset_password", username)
    return password


def set_active(camp: Campaign, log: AccountLog, actor: User, username: str, active: bool) -> None:
    """Deactivate (or reactivate) an account; a deactivated one can neither log in nor use tokens.

    Deactivation ends its sessions and tokens for good: reactivating does not revive them.
    """
    if username == actor.username and not active:
        raise AccountError("you cannot deactivate your own account")
    _existing(camp, actor, username)
    camp.users.update(username, active=active, revoke=not active)
    log.add(actor.username, camp.stamp(), "activate" if active else "deactivate", username)


def change_own_password(camp: Campaign, username: str, address: str, current: str, new: str) -> User:
    """The holder's change, counted like a login attempt so it cannot be used to guess
    passwords (raises Throttled or PasswordRefused); the account's other credentials end."""
    attempt = camp.logins.begin(username, address)
    user = camp.users.change_password(username, current, new)
    camp.logins.succeeded(username, address, attempt)
    camp.account_log.add(username, camp.stamp(), "change_password", username)
    return user


class ListRefused(AccountError):
    """Some rows of an account list are bad, so none was created; ``problems`` names each row."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _check_new(camp: Campaign, actor: User, row: dict, seen: set[str]) -> None:
    """Everything ``create`` would refuse, checked without creating anything."""
    username = row["username"]
    if not USERNAME.match(username):
        raise AccountError("a username is 2-40 characters: a-z, 0-9, '.', '_' or '-'")
    if username in seen or camp.users.exists(username):
        raise AccountError(f"user {username!r} exists already")
    seen.add(username)
    try:
        human_text(row["full_name"])
    except BadText as exc:
        raise AccountError(f"full name: {gettext('bad_chars', chars=exc.chars)}") from None
    _check(camp, actor, row["role"], row["unit"])


def create_many(camp: Campaign, log: AccountLog, actor: User,
                rows: list[tuple[int, dict]]) -> list[tuple[str, str]]:
    """All rows or none: every (line, row) is checked before the first account is created.

    Returns (username, one-time password) per row; raises ListRefused naming each bad line.
    """
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in rows:
        try:
            _check_new(camp, actor, row, seen)
        except (AccountError, PermissionError) as exc:
            problems.append(f"{line}. {row['username'] or '-'}: {exc}")
    if problems:
        raise ListRefused(problems)
    return [(row["username"], create(camp, log, actor, row["username"], row["full_name"], row["role"], row["unit"]))
            for _, row in rows]


_COLUMNS = {"username": "username", "ten dang nhap": "username", "full_name": "full_name",
            "ho ten": "full_name", "ho va ten": "full_name", "role": "role", "vai tro": "role",
            "unit": "unit", "ma don vi": "unit", "don vi": "unit"}


def read_account_rows(filename: str, stream: IO[bytes]) -> list[tuple[int, dict]]:
    """(line, row) of a CSV/XLSX list with columns username, full name, role, unit (vi or en headings).

    The same guarded reader as household imports: a spreadsheet bomb is refused before it is read.
    """
    try:
        table = read_table(filename, stream, ACCOUNT_LIMITS)
        headings = next(table, None)
        if headings is None:
            raise AccountError("the list is empty")
        keys = [_COLUMNS.get(fold(str(h or ""))) for h in headings]
        if not {"username", "role"} <= set(keys):
            raise AccountError("the list needs columns username, full_name, role, unit")
        rows = []
        for line, values in enumerate(table, start=2):
            row = {k: ("" if v is None else str(v).strip()) for k, v in zip(keys, values) if k}
            if any(row.values()):
                rows.append((line, row))
    except UploadError as exc:
        raise AccountError(str(exc)) from None
    return rows
