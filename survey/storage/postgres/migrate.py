"""The schema's migrations (Alembic, in ``migrations/``): upgrade, and the revision a database is at.

The service never changes the schema by itself: ``flask --app wsgi db upgrade`` does, once
per release, from any one host; an app that finds its database behind says so and stops.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from ..errors import StorageUnavailable
from .connection import connect, redacted

__all__ = ["CannotUpgrade", "SchemaBehind", "current", "head", "require_current", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaBehind(StorageUnavailable):
    """The database's schema is not this release's (``db upgrade`` not run yet): the service
    answers 503 with this message rather than write into a table it does not know."""


class CannotUpgrade(RuntimeError):
    """A revision needs what the server or this account cannot give (an extension); the
    message says what to do, and nothing of the revision was applied."""


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest by default)."""
    command.upgrade(_config(url), revision)


def head() -> str:
    """The newest revision this release knows."""
    heads = ScriptDirectory.from_config(_config("postgresql://")).get_heads()
    return ",".join(sorted(heads))


def current(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None before the first upgrade."""
    with connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('alembic_version') IS NOT NULL").fetchone()[0]
        if not exists:
            return None
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return ",".join(sorted(r[0] for r in rows)) or None


def require_current(url: str) -> None:
    """Raise SchemaBehind unless the database is at this release's newest revision."""
    found, wanted = current(url), head()
    if found != wanted:
        raise SchemaBehind(f"the database {redacted(url)} is at schema revision {found or 'none'}, "
                           f"this release needs {wanted}: run `flask --app wsgi db upgrade`")
