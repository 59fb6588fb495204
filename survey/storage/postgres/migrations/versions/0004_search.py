"""Household search in the database: folded name and hamlet columns and their trigram index.

Revision ID: 0004_search
Revises: 0003_create_once
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import psycopg
from alembic import op

from survey.storage.matching import hamlet_key, searched_text
from survey.storage.postgres.migrate import CannotUpgrade

revision = "0004_search"
down_revision = "0003_create_once"
branch_labels = None
depends_on = None

BATCH = 20_000  # rows read and written back at a time while existing rows are filled


def upgrade() -> None:
    """``search_text`` and ``hamlet_key`` are worked out in Python (``survey.storage.matching``),
    never in SQL, so they are the very forms the files' search index holds; rows stored
    before this revision are filled here. A searched word may lie anywhere in a name, so the
    index is pg_trgm's GIN (``LIKE '%word%'``), not a btree that serves only prefixes; the
    hamlet, officer and visit-day filters compare values, by btrees. The search tallies
    workers kept in ``household_tallies`` are no longer read: dropped.
    ``household_create_once`` takes the two columns with the record. Filling rewrites every
    row once: autovacuum (or ``VACUUM households`` after the upgrade) makes the old
    versions' space reusable.
    """
    conn = op.get_bind().connection.driver_connection
    _require_trigrams(conn)
    op.execute("ALTER TABLE households ADD COLUMN search_text text, ADD COLUMN hamlet_key text")
    _fill(conn)
    op.execute("ALTER TABLE households ALTER COLUMN search_text SET NOT NULL,"
               " ALTER COLUMN hamlet_key SET NOT NULL")
    op.execute("CREATE INDEX households_search ON households USING gin (search_text gin_trgm_ops)")
    op.execute("CREATE INDEX households_hamlet ON households (hamlet_key)")
    op.execute("CREATE INDEX households_officer ON households ((record->>'officer'))")
    op.execute("CREATE INDEX households_visited ON households ((record->>'visited_on'))")
    op.execute("ANALYZE households")
    op.execute("DELETE FROM household_tallies WHERE name = 'search'")
    op.execute("DROP FUNCTION household_create_once(text, integer, json)")
    op.execute("""
        CREATE FUNCTION household_create_once(p_id text, p_commune integer, p_record json,
                                              p_search_text text, p_hamlet_key text)
        RETURNS boolean LANGUAGE plpgsql AS $$
        DECLARE
            v_version bigint;
        BEGIN
            IF EXISTS (SELECT 1 FROM households WHERE id = p_id) THEN
                RETURN false;
            END IF;
            INSERT INTO household_communes AS c (commune_code, version, records, rewritten)
            VALUES (p_commune, 1, 0, 0)
            ON CONFLICT (commune_code) DO UPDATE SET version = c.version + 1
            RETURNING version INTO v_version;
            INSERT INTO households (id, commune_code, version, record, search_text, hamlet_key)
            VALUES (p_id, p_commune, v_version, p_record, p_search_text, p_hamlet_key)
            ON CONFLICT (id) DO NOTHING;
            IF NOT FOUND THEN
                RETURN false;
            END IF;
            UPDATE household_communes SET records = records + 1 WHERE commune_code = p_commune;
            RETURN true;
        END $$""")


def _require_trigrams(conn: psycopg.Connection) -> None:
    """pg_trgm in this database, created if the server has it and we may; else say what to do."""
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'").fetchone():
        return
    database = conn.info.dbname
    if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").fetchone():
        raise CannotUpgrade("the database server lacks the pg_trgm extension that household search needs:"
                            " install PostgreSQL's contrib modules (Debian: the postgresql package;"
                            " elsewhere postgresql-contrib), then run `flask --app wsgi db upgrade` again")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise CannotUpgrade(f"this account may not create the pg_trgm extension that household search needs:"
                            f" a superuser (or the database's owner) must run `CREATE EXTENSION pg_trgm;`"
                            f" in database {database} once, then run `flask --app wsgi db upgrade` again"
                            f" ({str(exc).strip()})") from None


def _fill(conn: psycopg.Connection) -> None:
    """Work out the columns of every stored row, a batch at a time: read from a server-side
    cursor, written back by COPY into a temporary table and one UPDATE at the end."""
    conn.execute("CREATE TEMPORARY TABLE searched (id text PRIMARY KEY, search_text text, hamlet_key text)"
                 " ON COMMIT DROP")
    with conn.cursor(name="households_to_fill") as rows:
        rows.itersize = BATCH
        rows.execute("SELECT id, record->>'head_name', record->>'hamlet' FROM households")
        while batch := rows.fetchmany(BATCH):
            with conn.cursor() as cur, cur.copy("COPY searched (id, search_text, hamlet_key) FROM STDIN") as copy:
                for key, name, hamlet in batch:
                    record = {k: v for k, v in (("head_name", name), ("hamlet", hamlet)) if v is not None}
                    copy.write_row((key, searched_text(record), hamlet_key(record)))
    conn.execute("UPDATE households AS h SET search_text = s.search_text, hamlet_key = s.hamlet_key"
                 " FROM searched AS s WHERE h.id = s.id")


def downgrade() -> None:
    op.execute("DROP FUNCTION household_create_once(text, integer, json, text, text)")
    previous = importlib.util.spec_from_file_location("create_once", Path(__file__).with_name("0003_create_once.py"))
    module = importlib.util.module_from_spec(previous)
    previous.loader.exec_module(module)
    module.upgrade()  # household_create_once as it was
    for index in ("households_visited", "households_officer", "households_hamlet"):
        op.execute(f"DROP INDEX {index}")
    op.execute("DROP INDEX households_search")
    op.execute("ALTER TABLE households DROP COLUMN search_text, DROP COLUMN hamlet_key")
