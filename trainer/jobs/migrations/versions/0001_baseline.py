"""Baseline: the schema of the day migrations began (``baseline.py``, ``baseline-*.sql``).

A database made before migrations existed has some or all of these tables and no
``alembic_version``: its missing tables are created, and the nullable columns its tables
lack (an older version's, e.g. the ``owner`` columns) are added, which is what
``add_missing_columns`` did on every start until then. From here on only revisions change it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from trainer.jobs.migrations.baseline import baseline_metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    existing = set(sa.inspect(bind).get_table_names())
    for table in baseline_metadata().sorted_tables:
        if table.name not in existing:
            table.create(bind)
            continue
        present = {column["name"] for column in sa.inspect(bind).get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("the baseline is the oldest schema; there is nothing below it")
