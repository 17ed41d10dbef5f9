"""Alembic's entry: runs the revisions on the connection ``trainer.jobs.schema`` passes in."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `loragate db upgrade` (trainer.jobs.schema)")
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():
    context.run_migrations()
