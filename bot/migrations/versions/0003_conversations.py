"""conversations: link a follow-up to the first inquiry of its conversation

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch.create_index("ix_inquiry_conversation_id", ["conversation_id"])


def downgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.drop_index("ix_inquiry_conversation_id")
        batch.drop_column("conversation_id")
