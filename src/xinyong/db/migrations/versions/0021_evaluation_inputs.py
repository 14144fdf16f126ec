"""evaluation inputs: the subject's industry (行业); evaluation results as plain JSON

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

- `subjects.industry_code`: the subject's industry under GB/T 4754-2017 《国民经济行业分类》, its 门类 letter
  optionally followed by the 大类 (two digits), 中类 or 小类 code (`E`, `C14`, `C1411`); copied from the
  registration item (DJ) by ingestion; nullable (not every subject's industry is known) and indexed (industry
  models select their subjects by it, supervision tiers and statistics group by it).
- `evaluation_results.indicators`, `evaluation_results.vetoes`: `json` instead of `jsonb` on PostgreSQL (no
  change on SQLite). A run's result documents are written by the database in one INSERT … SELECT and read
  whole; converting each to JSONB cost more than computing the run's features.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def _results_json(type_: sa.types.TypeEngine[object], cast: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in ("indicators", "vetoes"):
        op.alter_column("evaluation_results", column, type_=type_, postgresql_using=f"{column}::{cast}")


def upgrade() -> None:
    _results_json(sa.JSON(none_as_null=True), "json")
    op.add_column("subjects", sa.Column("industry_code", sa.String(length=8), nullable=True))
    op.create_index(op.f("ix_subjects_industry_code"), "subjects", ["industry_code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_subjects_industry_code"), table_name="subjects")
    op.drop_column("subjects", "industry_code")
    _results_json(postgresql.JSONB(none_as_null=True), "jsonb")
