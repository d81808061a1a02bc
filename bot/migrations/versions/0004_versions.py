"""config versions: every saved version of rules.yaml and the reply templates

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("saved_by", sa.String(length=100), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_config_version_path", "config_version", ["path"])
    op.create_index("ix_config_version_saved_at", "config_version", ["saved_at"])


def downgrade() -> None:
    op.drop_index("ix_config_version_saved_at", table_name="config_version")
    op.drop_index("ix_config_version_path", table_name="config_version")
    op.drop_table("config_version")
