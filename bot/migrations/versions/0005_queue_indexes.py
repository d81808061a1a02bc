"""queue indexes: the queue's order (urgent, then oldest) and the inquiry page's audit log

Revision ID: 0005
Revises: 0004

The queue page sorts open items by urgency then arrival; one composite index
serves its WHERE state IN (...) ORDER BY urgent DESC, received_at, id with
10,000 items waiting. The inquiry page reads the audit entries of one
inquiry, which without an index scans the whole log.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inquiry_queue_order", "inquiry", ["state", "urgent", "received_at", "id"])
    op.create_index("ix_audit_inquiry_id", "audit", ["inquiry_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_inquiry_id", table_name="audit")
    op.drop_index("ix_inquiry_queue_order", table_name="inquiry")
