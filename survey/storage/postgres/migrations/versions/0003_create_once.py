"""A submission in one round trip: ``household_create_once`` does the create path on the server.

Revision ID: 0003_create_once
Revises: 0002_documents
"""

from __future__ import annotations

from alembic import op

revision = "0003_create_once"
down_revision = "0002_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Store a record unless its id is stored anywhere; true if it was stored.

    The same steps the service took in four round trips (BEGIN, lock and bump the commune's
    row, insert, COMMIT), as one statement that is its own transaction: an id stored already
    is answered from the primary key without touching the commune; else the commune's row is
    locked and its version bumped (versions commit in order, as ``kept`` needs), the insert
    waits for a racing insert of the same id to end, and the count rises only if it stored.
    """
    op.execute("""
        CREATE FUNCTION household_create_once(p_id text, p_commune integer, p_record json)
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
            INSERT INTO households (id, commune_code, version, record)
            VALUES (p_id, p_commune, v_version, p_record)
            ON CONFLICT (id) DO NOTHING;
            IF NOT FOUND THEN
                RETURN false;
            END IF;
            UPDATE household_communes SET records = records + 1 WHERE commune_code = p_commune;
            RETURN true;
        END $$""")


def downgrade() -> None:
    op.execute("DROP FUNCTION household_create_once(text, integer, json)")
