"""audit trail as parallel chains

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Entries get their chain and position. Existing entries form chain 1 (their position is their id, as the
single chain numbered them); heads for the other chains start empty. On PostgreSQL the id sequence, never
used while ids were assigned by the chain, is moved past the existing entries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHAINS = 16
GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    op.execute("UPDATE audit_entries SET chain = 1, seq = id")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_chain_seq", ["chain", "seq"], unique=True)
    heads = sa.table(
        "audit_head", sa.column("id", sa.Integer), sa.column("last_id", sa.Integer), sa.column("last_hash")
    )
    bind = op.get_bind()
    existing = {row[0] for row in bind.execute(sa.text("SELECT id FROM audit_head"))}
    op.bulk_insert(
        heads,
        [{"id": n, "last_id": 0, "last_hash": GENESIS} for n in range(1, CHAINS + 1) if n not in existing],
    )
    if bind.dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_entries', 'id'),"
            " COALESCE((SELECT MAX(id) FROM audit_entries), 0) + 1, false)"
        )


def downgrade() -> None:
    op.execute("DELETE FROM audit_head WHERE id > 1")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_chain_seq")
        batch_op.drop_column("seq")
        batch_op.drop_column("chain")
