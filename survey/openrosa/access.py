"""Who is Collect: a key in the URL, or HTTP Basic with the account's password over HTTPS.

Both paths go through the same login throttle as the login page: a password attempt is
counted before it is checked, as on the login page; a wrong key is counted too (a right one
costs nothing, see ``_by_key``), so hammering Collect's routes is no cheaper than the form.
A browser session never opens these routes: Collect sends no cookie, and taking one would
let another site post households in the officer's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import request

from ..campaign import campaign
from ..throttle import Throttled
from ..users import User
from .keys import user_for_key

__all__ = ["Refused", "collect_user"]

REALM = "Bluezone OpenRosa"


class Refused(Exception):
    """Not let in: the status, the officer's message, and headers (challenge or Retry-After)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _challenge(message: str) -> Refused:
    return Refused(401, message, {"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})


def _throttled(exc: Throttled) -> Refused:
    return Refused(429, f"Thử sai quá nhiều lần; thử lại sau {exc.retry_after} giây.",
                   {"Retry-After": str(exc.retry_after)})


def _checked(name: str, check: Callable[[], User | None]) -> User | None:
    """Count the attempt, check it, and take it back on success (as the login page does)."""
    camp, address = campaign(), request.remote_addr or ""
    try:
        attempt = camp.logins.begin(name, address)
    except Throttled as exc:
        raise _throttled(exc) from None
    user = check()
    if user is not None:
        camp.logins.succeeded(name, address, attempt)
    return user


def _by_key(key: str) -> User:
    """A right key costs no write; a wrong one is counted (and refused with 429 over the limit).

    Counting after the check is safe here, unlike for passwords: a key is 256 random bits, so
    the throttle only has to stop a client hammering the service, not a guesser's luck.
    """
    camp = campaign()
    user = user_for_key(camp, key)
    if user is None:
        name = "collect-key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        try:
            camp.logins.begin(name, request.remote_addr or "")
        except Throttled as exc:
            raise _throttled(exc) from None
        raise _challenge("Mã kết nối không đúng hoặc đã bị thu hồi. Hãy quét lại mã QR mới.")
    return user


def _by_password() -> User:
    auth = request.authorization
    if auth is None or auth.type != "basic" or not auth.username:
        raise _challenge("Cần đăng nhập: quét mã QR của tài khoản, hoặc dùng mật khẩu qua HTTPS.")
    if not request.is_secure:
        raise Refused(403, "Chỉ nhận mật khẩu qua HTTPS. Hãy dùng mã QR của tài khoản.")
    username, password = auth.username.strip(), auth.password or ""
    user = _checked(username, lambda: campaign().users.authenticate(username, password))
    if user is None:
        raise _challenge("Tên đăng nhập hoặc mật khẩu không đúng.")
    return user


def collect_user(key: str | None) -> User:
    """The account behind this request, or raise Refused."""
    return _by_key(key) if key is not None else _by_password()
