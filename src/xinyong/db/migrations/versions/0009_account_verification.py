"""accounts: verification of subject accounts (activation codes, identity-provider logins, reviewed requests)

Subject accounts used to be opened with a USCC and the legal representative's name, both public. From this
revision an account sees its own file only once verified: by a code sent to the contact the registration
authority holds for the subject (`subject_contacts`, messages through the gateway, kept in
`outbox_messages` by the outbox gateway), by a login at the province's identity platform, or by a request
the credit office reviews (`account_verifications`). Every subject account opened before is marked
unverified; it keeps its username and password and may verify itself by any of these methods.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import xinyong.db.base

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(op.f("ix_outbox_messages_address"), "outbox_messages", ["address"], unique=False)
    op.create_index(op.f("ix_outbox_messages_created_at"), "outbox_messages", ["created_at"], unique=False)
    op.create_table(
        "subject_contacts",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("updated_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_subject_contacts_subject_id_subjects")
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_subject_contacts")),
    )
    op.create_table(
        "account_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_hash", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("subject_kind", sa.String(length=12), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("claimed_code", sa.String(length=18), nullable=True),
        sa.Column("claimed_name", sa.String(length=200), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("nonce", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("expires_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("proven_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("applicant", sa.String(length=100), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", xinyong.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_account_verifications_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subjects.id"], name=op.f("fk_account_verifications_subject_id_subjects")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_account_verifications_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_verifications")),
        sa.UniqueConstraint("ticket_hash", name=op.f("uq_account_verifications_ticket_hash")),
    )
    for column in ("method", "status", "subject_id", "user_id"):
        op.create_index(
            op.f(f"ix_account_verifications_{column}"), "account_verifications", [column], unique=False
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verification_method", sa.String(length=12), nullable=True))
    # Accounts opened on public data (USCC + legal representative, or resident ID + name) prove nothing.
    op.execute("UPDATE users SET verified_at = NULL WHERE role = 'subject'")


def downgrade() -> None:
    # Accounts stay unverified: what was proven under 0009 is not told apart from what was not before it.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("verification_method")
    for column in ("user_id", "subject_id", "status", "method"):
        op.drop_index(op.f(f"ix_account_verifications_{column}"), table_name="account_verifications")
    op.drop_table("account_verifications")
    op.drop_table("subject_contacts")
    op.drop_index(op.f("ix_outbox_messages_created_at"), table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_address"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
