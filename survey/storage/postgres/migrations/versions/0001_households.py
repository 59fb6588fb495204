"""Households: one row a record, per-commune counters and kept tallies.

Revision ID: 0001_households
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001_households"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Records are ``json``, not ``jsonb``: a record keeps the form's field order.

    ``seq`` is the insertion order a commune is read in. ``version`` is the commune's
    counter at the record's last write: the commune row is locked by every write, so a
    commune's versions are committed in order, and the records written after a kept tally
    are those with a greater version. ``rewritten`` is the last version that changed or
    removed an earlier record (a tally can then not be added to, only recomputed).
    """
    op.execute("""
        CREATE TABLE households (
            id text PRIMARY KEY,
            commune_code integer NOT NULL,
            seq bigint GENERATED ALWAYS AS IDENTITY,
            version bigint NOT NULL,
            record json NOT NULL
        )""")
    op.execute("CREATE INDEX households_commune_seq ON households (commune_code, seq)")
    op.execute("CREATE INDEX households_commune_version ON households (commune_code, version)")
    op.execute("""
        CREATE TABLE household_communes (
            commune_code integer PRIMARY KEY,
            version bigint NOT NULL,
            records bigint NOT NULL CHECK (records >= 0),
            rewritten bigint NOT NULL DEFAULT 0
        )""")
    op.execute("""
        CREATE TABLE household_tallies (
            commune_code integer NOT NULL,
            name text NOT NULL,
            shape text NOT NULL,
            version bigint NOT NULL,
            tally json NOT NULL,
            PRIMARY KEY (commune_code, name)
        )""")


def downgrade() -> None:
    op.execute("DROP TABLE household_tallies")
    op.execute("DROP TABLE household_communes")
    op.execute("DROP TABLE households")
