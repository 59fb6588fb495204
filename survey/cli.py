"""Command line: accounts, the demo campaign, exports for scripts (``flask --app wsgi ...``)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from exports import writers

from . import backup as backups
from .campaign import campaign
from .database_cli import db, storage
from .demo import agency_reports_for, households_for
from .openrosa.cli import collect_url
from .users import ROLES, AccountError

__all__ = ["register"]

users = AppGroup("users", help="Manage accounts.")
export = AppGroup("export", help="Write aggregates or household lists to a file.")
report = AppGroup("report", help="Write the reports the Department sends on.")


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--unit", help="Commune code (officer), district code (district) or agency code (agency).")
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_user(username: str, role: str, unit: str | None, full_name: str, password_stdin: bool) -> None:
    """Create an account; it can log in at once, no restart needed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        doc = campaign().users.add(username, password, role, unit, full_name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {username} ({doc['role']}, unit {doc['unit']})")


@users.command("token")
@click.argument("username")
def new_token(username: str) -> None:
    """Print one new API token for USERNAME, on one line."""
    try:
        click.echo(campaign().users.new_token(username))
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


@users.command("revoke-tokens")
@click.argument("username")
def revoke_tokens(username: str) -> None:
    """End every API token and session of USERNAME (a lost phone, a leaked script)."""
    try:
        count = campaign().users.revoke_tokens(username)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {count} tokens of {username}; its sessions have ended too")


def _demo_accounts(camp, path: Path) -> list[tuple[str, str, str]]:
    """Department, district and officer accounts for the demo; passwords saved beside the data."""
    accounts = [("so-tttt", "department", None)]
    accounts += [(f"huyen-{code}", "district", code) for code in camp.gazetteer.districts]
    accounts += [(f"xa-{code}", "officer", code) for code in camp.gazetteer.communes]
    accounts += [(f"cq-{code.lower()}", "agency", code) for code in camp.agencies.codes()]
    made = []
    for username, role, unit in accounts:
        if camp.users.exists(username):
            continue
        password = secrets.token_urlsafe(9)
        camp.users.add(username, password, role, unit)
        made.append((username, role, password))
    if made:
        with open(path, "a", encoding="utf-8") as fh:
            for row in made:
                fh.write("\t".join(row) + "\n")
        path.chmod(0o600)
    return made


@click.command("demo")
@click.option("--households", "total", default=4000, show_default=True, help="About how many households.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the data directory holds households already.")
@click.option("--seed", default=2020, show_default=True)
@with_appcontext
def demo(total: int, if_empty: bool, seed: int) -> None:
    """Fill the data directory with a realistic demo campaign and demo accounts."""
    camp = campaign()
    accounts_file = camp.data_dir / "demo-accounts.txt"
    if if_empty and not camp.households.is_empty():
        click.echo(f"data in {camp.data_dir} already; demo accounts are in {accounts_file}")
        return
    added = 0
    for commune, records in households_for(camp.gazetteer, total, seed):
        added += camp.households.bulk_insert(commune, records)
    if not camp.agency_reports.versions(camp.agencies.codes()):
        for report in agency_reports_for(camp.agencies.codes(), seed):
            stamp = report.pop("submitted_at")
            camp.agency_reports.add(report, "so-tttt", lambda stamp=stamp: stamp)
    made = _demo_accounts(camp, accounts_file)
    click.echo(f"demo campaign: {added} households in {camp.data_dir}")
    if made:
        shown = [r for r in made if r[1] != "officer"][:3] + [r for r in made if r[1] == "officer"][:2]
        click.echo("demo accounts (username, role, password); all of them are in " + str(accounts_file))
        for username, role, password in shown:
            click.echo(f"  {username:12} {role:11} {password}")


@export.command("aggregates")
@click.option("--level", type=click.Choice(["province", "district", "commune", "hamlet"]), default="commune")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv")
@click.option("--district", type=int)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def export_aggregates(level: str, fmt: str, district: int | None, lang: str, out: str) -> None:
    """Aggregates of the whole province (or one district), as the Department downloads them."""
    from .reporting.tables import aggregate_sheets, aggregate_table
    camp = campaign()
    communes = camp.gazetteer.communes_of[district] if district else list(camp.gazetteer.communes)
    with open(out, "wb") as fh:
        if fmt == "xlsx":
            writers.xlsx_sheets(aggregate_sheets(camp, communes, lang, "department"), fh)
            return
        headings, keys, rows = aggregate_table(camp, level, communes, lang)
        if fmt == "json":
            fh.write(writers.json_bytes({"level": level, "rows": rows}))
            return
        for chunk in writers.csv_rows(headings, ([r.get(k, "") for k in keys] for r in rows)):
            fh.write(chunk.encode("utf-8"))
    click.echo(f"wrote {out}")


@export.command("households")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv")
@click.option("--district", type=int)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def export_households(fmt: str, district: int | None, lang: str, out: str) -> None:
    """Every household of the province (or one district), one row each."""
    camp = campaign()
    communes = camp.gazetteer.communes_of[district] if district else list(camp.gazetteer.communes)
    from .reporting.tables import household_headings, household_rows
    headings = household_headings(camp.form, lang)
    rows = household_rows(camp.households.records(communes), camp.form, camp.gazetteer, lang)
    with open(out, "wb") as fh:
        if fmt == "xlsx":
            writers.xlsx_sheets([("Hộ gia đình", headings, rows, [16] * len(headings))], fh)
        else:
            for chunk in writers.csv_rows(headings, rows):
                fh.write(chunk.encode("utf-8"))
    click.echo(f"wrote {out}")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "username", default=None,
              help="Account the rows are stored under (default: a department account).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@with_appcontext
def import_command(file: str, username: str | None, lang: str) -> None:
    """Import households from a CSV or XLSX file in the columns of the household export."""
    from .households.imports import ImportFileError, import_rows, read_rows
    from .uploads import LOCAL_FILE_LIMITS
    camp = campaign()
    user = _import_user(camp, username)
    try:
        with open(file, "rb") as fh:
            rows = list(read_rows(camp, file, fh, LOCAL_FILE_LIMITS))
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(length=len(rows), label="rows", file=sys.stderr) as bar:
        report = import_rows(camp, user, iter(rows), lang, progress=bar.update)
    for number, errors in report.errors:
        click.echo(f"row {number}: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    click.echo(f"{report.total} rows: {report.created} stored, {report.unchanged} already there, "
               f"{len(report.errors)} with errors")
    if report.errors:
        sys.exit(1)


def _import_user(camp, username: str | None):
    """The account an import writes as: the one named, else the first department account."""
    if username is None:
        docs = camp.users.users.documents().values()
        username = next((d["username"] for d in docs if d["role"] == "department" and d.get("active", True)), None)
        if username is None:
            raise click.ClickException("no department account: create one or pass --as USERNAME")
    user = camp.users.load(username)
    if user is None or not user.writable:
        raise click.ClickException(f"{username!r} is not an active account that may enter households")
    return user


@export.command("agency-reports")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def export_agency_reports(fmt: str, lang: str, out: str) -> None:
    """Every agency with its latest figures and reporting status, as the Department downloads it."""
    from .reporting.figures import agency_table
    from .reporting.tables import agency_sheet
    camp = campaign()
    rows, totals = agency_table(camp, camp.agencies.codes())
    sheet = agency_sheet(rows, camp.agencies.groups, lang)
    with open(out, "wb") as fh:
        if fmt == "json":
            fh.write(writers.json_bytes({"rows": rows, "totals": totals}))
        elif fmt == "xlsx":
            writers.xlsx_sheets([sheet], fh)
        else:
            for chunk in writers.csv_rows(sheet[1], sheet[2]):
                fh.write(chunk.encode("utf-8"))
    click.echo(f"wrote {out}")


@report.command("province")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True)
def report_province(out: str) -> None:
    """The province report for the Chairman (XLSX), as the Department downloads it."""
    from exports.province_report import province_report_xlsx

    from .reporting.figures import province_report_data
    with open(out, "wb") as fh:
        fh.write(province_report_xlsx(province_report_data(campaign())))
    click.echo(f"wrote {out}")


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Copy the data directory to PATH (a new directory) as one consistent moment, service running or not."""
    camp = campaign()
    try:
        manifest = backups.snapshot(camp, path)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    households = sum(f.get("records", 0) for rel, f in manifest["files"].items() if rel.startswith("households/"))
    click.echo(f"backup of {camp.data_dir} at {manifest['taken_at']}: {households} households in {path}")
    if not os.environ.get("SURVEY_BACKUP_KEY"):
        click.echo(f"signed with {camp.data_dir / backups.KEY_FILE}: keep a copy of it apart from the backups; "
                   "a restore into another data directory needs it (--key-file)")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace households that the data directory holds now.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The backup.key of the data directory the backup was taken from.")
def restore(path: Path, force: bool, key_file: Path | None) -> None:
    """Bring the data directory back to the backup in PATH, after checking the backup is whole."""
    camp = campaign()
    try:
        manifest = backups.restore(camp, path.resolve(), force, key_file)
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    households = sum(f.get("records", 0) for rel, f in manifest["files"].items() if rel.startswith("households/"))
    click.echo(f"restored {households} households from the backup of {manifest['taken_at']} into {camp.data_dir}")


def register(app: Flask) -> None:
    """Attach the commands to ``app``."""
    users.add_command(collect_url)
    app.cli.add_command(users)
    app.cli.add_command(export)
    app.cli.add_command(report)
    app.cli.add_command(demo)
    app.cli.add_command(import_command)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(db)
    app.cli.add_command(storage)
