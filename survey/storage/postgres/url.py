"""Which database the configuration names, readable without loading the driver.

Every worker asks this at start; on the default TinyDB files the answer is "none", and psycopg
and its pool (about 11 MB of a worker's memory) are then never imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["database_url", "redacted"]


def database_url(config: Mapping[str, Any]) -> str | None:
    """The PostgreSQL URL the configuration selects, or None for the embedded TinyDB files."""
    url = (config.get("SURVEY_DATABASE_URL") or "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("SURVEY_DATABASE_URL must start with postgresql:// "
                         f"(got {redacted(url)!r})")
    return url


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        host = parts.hostname or query.get("host", [""])[0]  # a socket directory comes as ?host=
        port = parts.port or query.get("port", [""])[0]
    except ValueError:
        return "postgresql://…"
    if parts.scheme not in ("postgresql", "postgres"):
        return "postgresql://…"
    return f"postgresql://{parts.username or ''}@{host}:{port}/{parts.path.lstrip('/')}"
