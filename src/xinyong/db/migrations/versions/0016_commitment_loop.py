"""credit commitments as a closed loop: kinds, verification tasks and outcomes (信用承诺核查)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

- `commitments` gains its kind (`kind`: approval 审批替代型, voluntary 主动型, industry 行业自律型, repair
  信用修复型; existing rows are repair commitments or, for the template `notify_commit`, approval ones), the
  matter it is given for (`matter`), the SHA-256 of a document signed at a department's counter
  (`document_sha256`, unique per department: `ix_commitments_department_document`), the date a department set
  for its verification (`verify_by`), the verification task (`verification_opened_on`, `verification_due`)
  and who recorded the outcome (`decided_by`); status gains `verifying` (核查中).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("matter", sa.String(length=200)),
    ("document_sha256", sa.String(length=64)),
    ("verify_by", sa.Date()),
    ("verification_opened_on", sa.Date()),
    ("verification_due", sa.Date()),
    ("decided_by", sa.String(length=100)),
)


def upgrade() -> None:
    op.add_column(
        "commitments",
        sa.Column("kind", sa.String(length=16), server_default=sa.text("'repair'"), nullable=False),
    )
    for name, type_ in _COLUMNS:
        op.add_column("commitments", sa.Column(name, type_, nullable=True))
    op.execute("UPDATE commitments SET kind = 'approval' WHERE template_code = 'notify_commit'")
    op.create_index(op.f("ix_commitments_kind"), "commitments", ["kind"], unique=False)
    op.create_index(op.f("ix_commitments_matter"), "commitments", ["matter"], unique=False)
    op.create_index(
        op.f("ix_commitments_verification_due"), "commitments", ["verification_due"], unique=False
    )
    op.create_index(
        "ix_commitments_department_document",
        "commitments",
        ["department_code", "document_sha256"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ix_commitments_department_document", table_name="commitments")
    op.drop_index(op.f("ix_commitments_verification_due"), table_name="commitments")
    op.drop_index(op.f("ix_commitments_matter"), table_name="commitments")
    op.drop_index(op.f("ix_commitments_kind"), table_name="commitments")
    op.execute("UPDATE commitments SET status = 'signed' WHERE status = 'verifying'")
    for name, _type in reversed(_COLUMNS):
        op.drop_column("commitments", name)
    op.drop_column("commitments", "kind")
