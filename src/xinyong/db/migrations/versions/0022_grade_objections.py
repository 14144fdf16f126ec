"""grade objections: an objection targets a record or an evaluation result (异议对象：信用记录或评价结果)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

- `objections.record_id`, `objections.record_version`: nullable (an objection to a grade names no record).
- `objections.evaluation_result_id` (indexed, references `evaluation_results`): the evaluation result objected
  to; `objections.model_code` its model; `objections.indicator_code` the disputed indicator (null: the model as
  a whole, 整体评价); `objections.other_departments` (JSON list) the other departments whose records are behind
  the indicator's value, named in the case.
- CHECK `ck_objections_one_target`: exactly one of `record_id` and `evaluation_result_id` is set.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
ONE_TARGET = (
    "(record_id IS NOT NULL AND evaluation_result_id IS NULL)"
    " OR (record_id IS NULL AND evaluation_result_id IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.alter_column("record_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("record_version", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("evaluation_result_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("model_code", sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column("indicator_code", sa.String(length=48), nullable=True))
        batch_op.add_column(sa.Column("other_departments", _JSON, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_objections_evaluation_result_id_evaluation_results"),
            "evaluation_results",
            ["evaluation_result_id"],
            ["id"],
        )
        batch_op.create_index(
            batch_op.f("ix_objections_evaluation_result_id"), ["evaluation_result_id"], unique=False
        )
        batch_op.create_check_constraint(batch_op.f("ck_objections_one_target"), sa.text(ONE_TARGET))


def downgrade() -> None:
    op.execute("DELETE FROM objections WHERE record_id IS NULL")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_objections_one_target"), type_="check")
        batch_op.drop_index(batch_op.f("ix_objections_evaluation_result_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_objections_evaluation_result_id_evaluation_results"), type_="foreignkey"
        )
        batch_op.drop_column("other_departments")
        batch_op.drop_column("indicator_code")
        batch_op.drop_column("model_code")
        batch_op.drop_column("evaluation_result_id")
        batch_op.alter_column("record_version", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("record_id", existing_type=sa.Integer(), nullable=False)
