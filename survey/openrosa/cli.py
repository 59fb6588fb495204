"""``flask --app wsgi users collect-url USERNAME``: a new Collect key, printed as its server URL."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..campaign import campaign
from ..users import AccountError
from .keys import new_key
from .setup import server_url

__all__ = ["collect_url"]


@click.command("collect-url")
@click.argument("username")
@click.option("--base", default="http://localhost:8000",
              help="The service's public address, as phones reach it (https://...).")
@with_appcontext
def collect_url(username: str, base: str) -> None:
    """Print a new Collect server URL for USERNAME (any earlier key stops working)."""
    try:
        key = new_key(campaign(), username)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    with current_app.test_request_context(base_url=base):
        click.echo(server_url(key))
