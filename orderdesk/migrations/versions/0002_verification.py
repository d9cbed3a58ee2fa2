"""verification attempts and verified conversations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("conversation", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("succeeded", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_attempts")),
    )
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_verification_attempts_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_attempts_conversation"), ["conversation"], unique=False)
        batch_op.create_index(batch_op.f("ix_verification_attempts_at"), ["at"], unique=False)
    op.create_table(
        "verified_conversations",
        sa.Column("conversation", sa.String(length=200), nullable=False),
        sa.Column("session", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], ondelete="CASCADE",
                                name=op.f("fk_verified_conversations_customer_id_customers")),
        sa.PrimaryKeyConstraint("conversation", name=op.f("pk_verified_conversations")),
    )


def downgrade() -> None:
    op.drop_table("verified_conversations")
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_verification_attempts_at"))
        batch_op.drop_index(batch_op.f("ix_verification_attempts_conversation"))
        batch_op.drop_index(batch_op.f("ix_verification_attempts_order_id"))
    op.drop_table("verification_attempts")
