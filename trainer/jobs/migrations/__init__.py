"""Alembic migrations of the product database: every table of loragate (the job store's and
the gateway's shared state) in one history. They ship inside the package, so an installed
loragate upgrades its database without the source checkout: ``trainer.jobs.schema`` runs
them (at start-up, under a lock, and by ``loragate db upgrade``).

A new revision: add ``versions/NNNN_<what>.py`` (``revision``, ``down_revision`` = the
previous one), written with ``op`` and its own table definitions, never the models (they
move on); ``tests/trainer/jobs/test_schema.py`` fails until the models and the migrated
database agree, on SQLite and on PostgreSQL.
"""
