"""statistics: aggregates the portal's statistics pages read

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

`/statistics` and `/statistics/repairs` read one row per statistic (`statistics_aggregates`) instead of
scanning checks, list entries, subjects, repair applications and objections on every request. The daily job
recomputes every row (`xinyong.monitoring.jobs.refresh_statistics`); the rows are created here with no data so
that the job only ever updates a row (concurrent runs queue on its lock instead of racing to insert it), and a
page computes a statistic itself while its row has none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

NAMES = ("checks_by_month", "checks_by_scenario", "punishment_share", "repairs", "objections")


def upgrade() -> None:
    table = op.create_table(
        "statistics_aggregates",
        sa.Column("name", sa.String(length=48), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("computed_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "data",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_statistics_aggregates")),
    )
    op.bulk_insert(table, [{"name": name} for name in NAMES])


def downgrade() -> None:
    op.drop_table("statistics_aggregates")
