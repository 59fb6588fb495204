"""Headers every answer carries: no framing, no sniffing, scripts only from this site, and
nothing from the API or the exports kept in a cache.

Kept apart from the app factory because two writers use them: the app's after-request hook,
and the lean submission path (``api.lean_submit``) that answers without the hook.
"""

from __future__ import annotations

from flask import Response, request

__all__ = ["CSP", "EVERY_ANSWER", "security_headers"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; manifest-src 'self'; worker-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'")

EVERY_ANSWER = (("content-security-policy", "Content-Security-Policy", CSP),
                ("x-content-type-options", "X-Content-Type-Options", "nosniff"),
                ("referrer-policy", "Referrer-Policy", "same-origin"),
                ("x-frame-options", "X-Frame-Options", "DENY"))


def security_headers(response: Response) -> Response:
    """Headers every answer carries: no framing, no sniffing, scripts only from here (a view's
    own value wins; the names present are read once, not once per header)."""
    headers = response.headers
    present = {key.lower() for key, _ in headers.items()}
    for lower, name, value in EVERY_ANSWER:
        if lower not in present:
            headers.add(name, value)
    if "cache-control" not in present and (
            request.path.startswith(("/api/", "/exports/")) or "set-cookie" in present):
        headers.add("Cache-Control", "no-store")
    return response
