"""subjects: a bigram index so that a two-character search (a bare trade name, 字号) uses an index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29

The trigram index serves `core_name LIKE '%…%'` only for three characters or more; a two-character query
such as `鑫源` (a very common way to look a company up) scanned the whole table. PostgreSQL only: an immutable
function lists a name's two-character substrings and a GIN index over it finds the names holding one; the
LIKE condition still decides. SQLite has no such index and is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION xinyong_bigrams(text) RETURNS text[]
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$ SELECT coalesce(array_agg(substr($1, i, 2)), '{}')
              FROM generate_series(1, char_length($1) - 1) AS i $$
        """
    )
    op.execute("CREATE INDEX ix_subjects_core_bigrams ON subjects USING gin (xinyong_bigrams(core_name))")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_subjects_core_bigrams")
    op.execute("DROP FUNCTION xinyong_bigrams(text)")
