"""queue waiting flag: "waits for a person" as one indexed column, and the queue order's index DESC

Revision ID: 0008
Revises: 0007

The queue's open items were ``state IN (...) OR EXISTS (a failed reply)``: the
OR kept the database off the queue-order index, so every page sorted all the
open items and then skipped OFFSET of them (p95 105 ms for page 100 of
10,000). Two denormalised columns, kept in step by ``bot.store.models`` on every
ORM flush: ``send_failed`` (a reply of the inquiry is "failed") and
``waiting`` (an open state, or a failed send). ``ix_inquiry_waiting_order`` is
the queue's order, urgent DESC, so a page is read off the index (language last:
the language filter is answered from the index without reading rows); the per-state
``ix_inquiry_queue_order`` becomes the same, and
``ix_inquiry_order`` (the "everything" tab's order) replaces the index on
``urgent`` alone, which nothing queries by itself.

The columns are added with ALTER TABLE ADD COLUMN, so on SQLite they sit after
``raw`` (unlike 0006's advice). Rebuilding the table to put them first would mean
dropping ``inquiry``, and SQLite, with foreign keys on (bot.store.db turns them on),
deletes every reply and audit entry with it (ON DELETE CASCADE): the batch
rebuilds of 0006 and 0007 do exactly that. The queue reads both flags from its
indexes, so only the rows it loads (50 a page) walk past ``raw`` to them: ~0.2 ms
a page on the 10,000-inquiry benchmark database. The downgrade drops them with
ALTER TABLE DROP COLUMN (SQLite 3.35 or later), again without a rebuild.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# OPEN_STATES as of this revision (a migration must not follow later changes of the models).
OPEN = ("escalated", "drafted", "manual", "quarantined")
FAILED = "failed"

inquiry = sa.table(
    "inquiry",
    sa.column("id", sa.Integer),
    sa.column("state", sa.String),
    sa.column("send_failed", sa.Boolean),
    sa.column("waiting", sa.Boolean),
)
reply = sa.table("reply", sa.column("inquiry_id", sa.Integer), sa.column("state", sa.String))


def upgrade() -> None:
    # Not batch_alter_table: on SQLite that rebuilds the table (see above).
    for name in ("send_failed", "waiting"):
        op.add_column("inquiry", sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
    failed = sa.select(reply.c.inquiry_id).where(reply.c.state == FAILED)
    op.execute(inquiry.update().where(inquiry.c.id.in_(failed)).values(send_failed=sa.true()))
    op.execute(
        inquiry.update()
        .where(sa.or_(inquiry.c.state.in_(OPEN), inquiry.c.send_failed == sa.true()))
        .values(waiting=sa.true())
    )
    op.create_index("ix_inquiry_send_failed", "inquiry", ["send_failed"])
    op.create_index(
        "ix_inquiry_waiting_order",
        "inquiry",
        ["waiting", sa.text("urgent DESC"), "received_at", "id", "language"],
    )
    op.drop_index("ix_inquiry_queue_order", table_name="inquiry")
    op.create_index(
        "ix_inquiry_queue_order",
        "inquiry",
        ["state", sa.text("urgent DESC"), "received_at", "id", "language"],
    )
    op.drop_index("ix_inquiry_urgent", table_name="inquiry")
    op.create_index("ix_inquiry_order", "inquiry", [sa.text("urgent DESC"), "received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_inquiry_order", table_name="inquiry")
    op.create_index("ix_inquiry_urgent", "inquiry", ["urgent"])
    op.drop_index("ix_inquiry_queue_order", table_name="inquiry")
    op.create_index("ix_inquiry_queue_order", "inquiry", ["state", "urgent", "received_at", "id"])
    op.drop_index("ix_inquiry_waiting_order", table_name="inquiry")
    op.drop_index("ix_inquiry_send_failed", table_name="inquiry")
    op.drop_column("inquiry", "waiting")
    op.drop_column("inquiry", "send_failed")
