"""unit.other_parents: a direct-report point credited to more than one unit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing units have one parent at most: an empty list, written as the server default so
    # that the NOT NULL column can be added to a table that already has rows.
    with op.batch_alter_table("unit") as batch_op:
        batch_op.add_column(sa.Column("other_parents", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("unit") as batch_op:
        batch_op.drop_column("other_parents")
