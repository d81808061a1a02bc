"""drop inquiry.flagged_on_server: nothing ever set or read it

Revision ID: 0007
Revises: 0006

Whether the mailbox was told about a stored message is asked of the mailbox
itself (the $HelpdeskStored keyword), so the column was dead state.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.drop_column("flagged_on_server")


def downgrade() -> None:
    with op.batch_alter_table("inquiry") as batch:
        batch.add_column(
            sa.Column("flagged_on_server", sa.Boolean(), nullable=False, server_default=sa.false())
        )
