"""evaluation results stored when they change: each result's inputs (评价结果只在变化时保存); run watermarks

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

- `evaluation_results.inputs`, `evaluation_grades.inputs` (text, nullable): what a result is a function of, the
  model's digest and each indicator's value (`digest:v1|v2|…`). A run writes a result only for a subject whose
  inputs differ from those of its current result (or who has none): an unchanged subject keeps its result, its
  current grade and its history untouched. Rows written before this revision have none, so their subjects are
  written once more by the next run.
- `evaluation_runs.last_subject_id`, `evaluation_runs.last_consent_id` (integer, default 0): the last subject and
  consent when the run read its inputs. The next incremental run looks for subjects without a grade among the
  subjects and consents after them only, not over every subject (0 for earlier runs: every subject, as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


WATERMARKS = ("last_subject_id", "last_consent_id")


def upgrade() -> None:
    for table in ("evaluation_results", "evaluation_grades"):
        op.add_column(table, sa.Column("inputs", sa.Text(), nullable=True))
    for name in WATERMARKS:
        op.add_column(
            "evaluation_runs", sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text("0"))
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluation_runs", schema=None) as batch_op:
        for name in WATERMARKS:
            batch_op.drop_column(name)
    for table in ("evaluation_results", "evaluation_grades"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("inputs")
