"""Commands for PostgreSQL: ``flask --app wsgi db upgrade`` and ``db current``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .storage.postgres.connection import database_url, redacted

__all__ = ["db"]

db = AppGroup("db", help="The PostgreSQL schema (SURVEY_DATABASE_URL).")


def configured_url() -> str:
    """The app's SURVEY_DATABASE_URL, or a clear error when the embedded files are in use."""
    try:
        url = database_url(current_app.config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if url is None:
        raise click.ClickException("SURVEY_DATABASE_URL is not set: the data directory's files need no schema")
    return url


@db.command("upgrade")
def upgrade() -> None:
    """Create or migrate the schema to this release's newest revision (safe to run again)."""
    from .storage.postgres import migrate
    url = configured_url()
    migrate.upgrade(url)
    click.echo(f"schema of {redacted(url)} at revision {migrate.current(url)}")


@db.command("current")
def current() -> None:
    """Print the schema revision of the database and the one this release needs."""
    from .storage.postgres import migrate
    url = configured_url()
    click.echo(f"database {migrate.current(url) or 'none'}, release {migrate.head()}")
