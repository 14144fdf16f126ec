"""security hardening: interrupted ingests are marked and resumable

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

An ingest that commits chunk by chunk (`xinyong ingest`) and is killed part-way used to leave its batch
"running" forever. `batches.heartbeat_at` is set with every committed chunk, so a batch running with no
heartbeat for a while is marked `interrupted` (at start-up, by the daily job, or by the next ingest); and
`batches.file_digest` (SHA-256 of the file) lets a re-run of the same file resume that batch after the rows it
has already stored, so its rejected rows are not stored twice.

The audit chain became keyed (HMAC with the audit key, which is not in the database) without a schema change:
a trail written before it is re-hashed once by `xinyong audit rekey`, which first verifies it unkeyed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import xinyong.db.base

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("heartbeat_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("file_digest", sa.String(length=64), nullable=True))
    op.create_index("ix_batches_status", "batches", ["status"])
    op.create_index("ix_batches_file_digest", "batches", ["file_digest"])


def downgrade() -> None:
    op.drop_index("ix_batches_file_digest", table_name="batches")
    op.drop_index("ix_batches_status", table_name="batches")
    with op.batch_alter_table("batches", schema=None) as batch_op:
        batch_op.drop_column("file_digest")
        batch_op.drop_column("heartbeat_at")
