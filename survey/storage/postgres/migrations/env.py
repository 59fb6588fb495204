"""Alembic's entry: run the revisions on the URL ``migrate.upgrade`` put in the config.

The revisions are plain SQL (``op.execute``); SQLAlchemy is only Alembic's way in, through
psycopg 3. An advisory lock makes app hosts that upgrade at the same time take turns.
"""

from __future__ import annotations

import psycopg
from alembic import context
from sqlalchemy import create_engine, pool, text

MIGRATION_LOCK = 7_391_220  # any constant: the advisory lock key of schema upgrades


def run() -> None:
    """psycopg opens the connection from the URL as the service does; SQLAlchemy only wraps it."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = create_engine("postgresql+psycopg://", poolclass=pool.NullPool,
                           creator=lambda: psycopg.connect(url))
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run()
