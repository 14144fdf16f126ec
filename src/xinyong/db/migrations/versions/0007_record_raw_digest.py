"""records: the keyed digest of the submitted row each current version came from

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28

A department that sends the same row again (daily full files) is recognised before the row is validated:
`records.raw_digest` is a keyed BLAKE2b digest of the catalog version, item, provider, headers and raw cells of
the row the record's current version was made from. Existing records have none and are validated as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_digest", sa.String(length=32), nullable=True))
    op.create_index("ix_records_raw_digest", "records", ["raw_digest"])


def downgrade() -> None:
    op.drop_index("ix_records_raw_digest", table_name="records")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_column("raw_digest")
