"""jobs.handbacks: how often a stopping worker put the job back in the queue.

A non-null column with a server default, so the rows already there read 0 (a change
``add_missing_columns`` could not make).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    column = sa.Column("handbacks", sa.Integer(), nullable=False, server_default="0")
    op.add_column("jobs", column)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("handbacks")
