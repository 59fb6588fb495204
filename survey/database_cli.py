"""Commands for PostgreSQL: ``db upgrade``, ``db current`` and ``storage copy --to``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .storage.postgres.url import database_url, redacted

__all__ = ["db", "storage"]

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
    try:
        migrate.upgrade(url)
    except migrate.CannotUpgrade as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"schema of {redacted(url)} at revision {migrate.current(url)}")


@db.command("current")
def current() -> None:
    """Print the schema revision of the database and the one this release needs."""
    from .storage.postgres import migrate
    url = configured_url()
    click.echo(f"database {migrate.current(url) or 'none'}, release {migrate.head()}")


storage = AppGroup("storage", help="Move households and documents between the data directory's files and PostgreSQL.")


def _target(to: str):
    """The backend ``--to`` names: a postgresql:// URL (schema brought up to date) or a data directory."""
    from .storage import TinyDBHouseholds
    if to.startswith(("postgresql://", "postgres://")):
        from .storage.postgres import migrate
        from .storage.postgres.households import PostgresHouseholds
        migrate.upgrade(to)
        return PostgresHouseholds(to), redacted(to)
    path = Path(to).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return TinyDBHouseholds(path), str(path)


def _documents_at(to: str):
    """The document space ``--to`` names (its schema is brought up to date by ``_target``)."""
    from .storage import open_documents
    key = "SURVEY_DATABASE_URL" if "://" in to else "SURVEY_DATA_DIR"
    return open_documents({key: to})


@storage.command("copy")
@click.option("--to", "to", required=True, help="postgresql://... or the path of a data directory.")
def copy(to: str) -> None:
    """Copy every household and every document (accounts, tokens, settings, agencies, reports,
    flags, history, the account log) and the session-signing key from the configured storage to --to, then check that
    household counts and figures agree at every level. Safe to run again: only what differs
    is written."""
    from .campaign import campaign
    from .storage.copy import copy_households, verify_copy
    from .storage.documents import copy_documents
    camp = campaign()
    source = camp.households.backend
    configured = database_url(current_app.config)
    if (to == configured) if "://" in to else (configured is None and Path(to).resolve() == camp.data_dir):
        raise click.ClickException("--to names the storage the households are in now: name the other one")
    target, where = _target(to)
    space = _documents_at(to)
    written = copy_documents(camp.backed_up_collections(), space)
    click.echo(f"{written} documents written (accounts, tokens, settings, agencies, reports, review, history)")
    space.adopt_secret_key(camp.secret_key())
    click.echo("session key copied: signed-in users stay signed in")
    summary = camp.hamlet_tallies()
    target.keep_summary("hamlets", summary)
    communes = list(camp.gazetteer.communes)
    with click.progressbar(length=source.count(communes), label=f"copying to {where}", file=sys.stderr) as bar:
        report = copy_households(source, target, communes, progress=bar.update)
    click.echo(f"{report.added} added, {report.replaced} replaced, {report.unchanged} already there"
               + (f"; {report.only_in_target} only in the target (left as they are)" if report.only_in_target else ""))
    agreed = verify_copy(source, target, camp.gazetteer.communes_of, summary, report)
    if report.mismatches:
        for line in report.mismatches[:20]:
            click.echo(f"  differs: {line}", err=True)
        raise click.ClickException(f"the copy does not match the source in {len(report.mismatches)} places")
    click.echo(f"checked: counts and figures match for the province, {agreed['district']} districts, "
               f"{agreed['commune']} communes and {agreed['hamlet']} hamlets")
