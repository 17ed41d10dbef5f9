"""files.status_details, files.checker, files.checked_at: large uploads are checked after
the answer (status ``uploaded``, then ``processed`` or ``error`` with the problems), by a
gateway process that says so and can be taken over when it stops saying so.

Nullable columns: the rows already there are processed files with nothing to add.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("files", sa.Column("status_details", sa.Text(), nullable=True))
    op.add_column("files", sa.Column("checker", sa.String(64), nullable=True))
    op.add_column("files", sa.Column("checked_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files") as batch:
        for name in ("checked_at", "checker", "status_details"):
            batch.drop_column(name)
