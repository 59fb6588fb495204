"""Documents: accounts, tokens, settings, agencies, reports, flags, history, login attempts, the session key.

Revision ID: 0002_documents
Revises: 0001_households
"""

from __future__ import annotations

from alembic import op

revision = "0002_documents"
down_revision = "0001_households"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """One row a document, keyed by its collection's name and its key.

    ``doc`` is ``json``, not ``jsonb``, for the reason households are: history keeps whole
    records, which keep the form's field order. ``seq`` is the insertion order a collection
    is read in (a replaced document keeps its place, as in TinyDB).
    """
    op.execute("""
        CREATE TABLE documents (
            collection text NOT NULL,
            key text NOT NULL,
            seq bigint GENERATED ALWAYS AS IDENTITY,
            doc json NOT NULL,
            PRIMARY KEY (collection, key)
        )""")
    op.execute("CREATE INDEX documents_collection_seq ON documents (collection, seq)")


def downgrade() -> None:
    op.execute("DROP TABLE documents")
