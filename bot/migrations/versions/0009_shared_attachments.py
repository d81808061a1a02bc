"""shared attachments: the packets' MIME parts stored once, replies refer to them by digest

Revision ID: 0009
Revises: 0008

Every draft carried its packets (~42 KB of ~46 KB) in ``reply.raw``: recording
a backlog was mostly copying the same PDFs, and the database grew four times
faster than its mail. ``attachment`` keeps each part once, by SHA-256; drafts
written in bulk are stored packed (bot/store/attachments.py). Rows already
stored stay as they are: a whole message is a valid stored value.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

reply = sa.table("reply", sa.column("id", sa.Integer), sa.column("raw", sa.LargeBinary))
attachment = sa.table("attachment", sa.column("digest", sa.String), sa.column("data", sa.LargeBinary))
MAGIC = b"\0packed:1\0"  # as bot/store/attachments.py wrote it at this revision


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    # Unpack every packed reply first, or dropping the table would lose its attachments.
    import re

    token = re.compile(rb"\0attachment:([0-9a-f]{64})\0")
    conn = op.get_bind()
    parts = {d: data for d, data in conn.execute(sa.select(attachment.c.digest, attachment.c.data))}
    ids = conn.execute(sa.select(reply.c.id)).scalars().all()
    for reply_id in ids:  # one row at a time: each carries a whole mail
        raw = conn.execute(sa.select(reply.c.raw).where(reply.c.id == reply_id)).scalar_one()
        if not raw.startswith(MAGIC):
            continue
        whole = token.sub(lambda m: parts[m.group(1).decode("ascii")], raw[len(MAGIC) :])
        conn.execute(sa.update(reply).where(reply.c.id == reply_id).values(raw=whole))
    op.drop_table("attachment")
