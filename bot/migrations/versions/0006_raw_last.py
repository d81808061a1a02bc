"""raw last: the whole message becomes the last column of inquiry and reply

Revision ID: 0006
Revises: 0005

SQLite keeps a large value in a chain of overflow pages inside the row, and
reading any column stored after it walks that chain: with ``raw`` seventh of
23 columns, the queue page's ORDER BY over 10,000 inquiries read every
message. Stored last, the other columns sit on the row's own page.
(PostgreSQL stores large values out of line anyway; the move is harmless there.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _move_raw_last(table: str, nullable: bool) -> None:
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("raw_last", sa.LargeBinary(), nullable=True))
    op.execute(f"UPDATE {table} SET raw_last = raw")
    with op.batch_alter_table(table) as batch:
        batch.drop_column("raw")
        batch.alter_column(
            "raw_last", new_column_name="raw", existing_type=sa.LargeBinary(), nullable=nullable
        )


def upgrade() -> None:
    _move_raw_last("inquiry", nullable=False)
    _move_raw_last("reply", nullable=False)


def downgrade() -> None:
    pass  # column order carries no meaning to undo
