"""Per-officer Collect keys: the secret in the server URL that Collect is configured with.

As ODK Central's app users do, the key stands in for a password that Collect would
otherwise keep on the phone: it opens only the OpenRosa routes, the account keeps its
password, and the district or Department revokes it without touching the account. Only a
SHA-256 digest of the key is kept (on the account, in ``users.json``), so the key is shown
once, when it is made; making a new one replaces the old.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import zlib

import orjson
import segno

from ..campaign import Campaign
from ..users import AccountError, User

__all__ = ["KEY_FIELD", "collect_settings", "has_key", "new_key", "qr_svg", "revoke", "user_for_key"]

KEY_FIELD = "collect_key"
_PREFIX = "ck_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key(camp: Campaign, username: str) -> str:
    """A fresh key for ``username`` (any earlier key stops working); only its digest is stored."""
    if not camp.users.exists(username):
        raise AccountError(f"no user {username!r}")
    key = _PREFIX + secrets.token_urlsafe(32)
    camp.users.update(username, **{KEY_FIELD: _digest(key)})
    return key


def user_for_key(camp: Campaign, key: str) -> User | None:
    """The active account whose key this is, or None."""
    digest = _digest(key)
    for doc in camp.users.all():
        stored = doc.get(KEY_FIELD)
        if stored and hmac.compare_digest(stored, digest):
            return camp.users.load(doc["username"])
    return None


def has_key(doc: dict) -> bool:
    """Whether an account document holds a live Collect key."""
    return bool(doc.get(KEY_FIELD))


def revoke(camp: Campaign, username: str) -> None:
    """Forget the account's key: Collect on that phone is refused from the next request."""
    camp.users.update(username, **{KEY_FIELD: None})


def collect_settings(server_url: str, project: str) -> str:
    """Collect's settings QR payload: the settings JSON, zlib-compressed, then base64."""
    settings = {"general": {"server_url": server_url, "form_update_mode": "match_exactly",
                            "autosend": "wifi_and_cellular"},
                "admin": {}, "project": {"name": project, "icon": "B", "color": "#0b6e4f"}}
    return base64.b64encode(zlib.compress(orjson.dumps(settings))).decode("ascii")


def qr_svg(payload: str) -> str:
    """The payload as a QR code in an SVG data URI (the pages' CSP allows data: images)."""
    return segno.make(payload, error="m").svg_data_uri(scale=4, border=4)
