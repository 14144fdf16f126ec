"""domain events: the outbox, consumer cursors, one workflow history, and records by decision number

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

- `domain_events`: changes others react to (a record published, corrected, revoked, repaired or its repair
  reverted; a list entry decided, removed or reinstated), written in the transaction that made them;
- `event_cursors`: how far each consumer (e.g. the repair notices) has read them;
- `workflow_events`: one history for every case workflow, replacing `list_entry_events`, `repair_events` and
  `objection_events`. Their rows are copied into it, in their order (`workflow` says whose, `case_id` which
  case), before they are dropped; the downgrade copies them back;
- `ix_records_item_doc_no`: the publicity search by decision number (认定文号) per item.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# (old table, its case column, the workflow's name, the width of its event and state columns)
OLD_HISTORIES = (
    ("list_entry_events", "entry_id", "list_entry", "list_entries", 16),
    ("repair_events", "application_id", "repair", "repair_applications", 24),
    ("objection_events", "objection_id", "objection", "objections", 16),
)
STEP = ("event", "from_state", "to_state", "on", "actor", "note", "at")
WORKFLOW_EVENTS = sa.table("workflow_events", *(sa.column(c) for c in ("id", "workflow", "case_id", *STEP)))


def _history(table: str, case_column: str) -> sa.TableClause:
    return sa.table(table, *(sa.column(c) for c in ("id", case_column, *STEP)))


def upgrade() -> None:
    op.create_table(
        "domain_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("aggregate", sa.String(length=24), nullable=False),
        sa.Column("aggregate_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON(none_as_null=True).with_variant(
                postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
            ),
            nullable=True,
        ),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domain_events")),
    )
    op.create_index("ix_domain_events_aggregate", "domain_events", ["aggregate", "aggregate_id"])
    op.create_index(op.f("ix_domain_events_kind"), "domain_events", ["kind"])
    op.create_index(op.f("ix_domain_events_created_at"), "domain_events", ["created_at"])
    op.create_table(
        "event_cursors",
        sa.Column("consumer", sa.String(length=48), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_event_cursors")),
    )
    op.create_table(
        "workflow_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=24), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_events")),
    )
    op.create_index("ix_workflow_events_workflow_case", "workflow_events", ["workflow", "case_id"])
    for table, case_column, workflow, _cases, _width in OLD_HISTORIES:
        old = _history(table, case_column)
        rows = sa.select(sa.literal(workflow), old.c[case_column], *(old.c[c] for c in STEP)).order_by(
            old.c.id
        )
        op.execute(WORKFLOW_EVENTS.insert().from_select(["workflow", "case_id", *STEP], rows))
        op.drop_table(table)
    op.create_index("ix_records_item_doc_no", "records", ["item_code", "doc_no"])


def downgrade() -> None:
    op.drop_index("ix_records_item_doc_no", table_name="records")
    for table, case_column, workflow, cases, width in OLD_HISTORIES:
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column(case_column, sa.Integer(), nullable=False),
            sa.Column("event", sa.String(length=width), nullable=False),
            sa.Column("from_state", sa.String(length=width), nullable=True),
            sa.Column("to_state", sa.String(length=width), nullable=False),
            sa.Column("on", sa.Date(), nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("note", sa.Text(), nullable=True),
            sa.Column("at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(
                [case_column], [f"{cases}.id"], name=op.f(f"fk_{table}_{case_column}_{cases}")
            ),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_{case_column}"), table, [case_column])
        new = WORKFLOW_EVENTS
        rows = (
            sa.select(new.c.case_id, *(new.c[c] for c in STEP))
            .where(new.c.workflow == workflow)
            .order_by(new.c.id)
        )
        op.execute(_history(table, case_column).insert().from_select([case_column, *STEP], rows))
    op.drop_table("workflow_events")
    op.drop_table("event_cursors")
    op.drop_index(op.f("ix_domain_events_created_at"), table_name="domain_events")
    op.drop_index(op.f("ix_domain_events_kind"), table_name="domain_events")
    op.drop_index("ix_domain_events_aggregate", table_name="domain_events")
    op.drop_table("domain_events")
