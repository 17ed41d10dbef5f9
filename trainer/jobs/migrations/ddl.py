"""The DDL of a set of tables as one dialect would run it, for the committed schema snapshots.

``python -m trainer.jobs.migrations.ddl sqlite`` (or ``postgresql``) prints the baseline's
DDL; ``baseline-sqlite.sql`` and ``baseline-postgresql.sql`` beside this file are its output
(made from the models' metadata on the day migrations began), and a test checks they match.
"""

from __future__ import annotations

import sys
from typing import Any

from sqlalchemy import Dialect, MetaData, create_mock_engine
from sqlalchemy.sql.ddl import CreateIndex, CreateTable, ExecutableDDLElement

DIALECTS = ("sqlite", "postgresql")


def ddl(metadata: MetaData, dialect: str) -> str:
    """``CREATE TABLE`` then ``CREATE INDEX`` statements (by name) of each table of
    ``metadata``, in dependency order: the same text on every run."""
    compiler = create_mock_engine(f"{dialect}://", _ignore).dialect
    statements: list[ExecutableDDLElement] = []
    for table in metadata.sorted_tables:
        statements.append(CreateTable(table))
        indexes = sorted(table.indexes, key=lambda index: str(index.name))
        statements.extend(CreateIndex(index) for index in indexes)
    return "\n".join(_text(statement, compiler) for statement in statements)


def _text(statement: ExecutableDDLElement, dialect: Dialect) -> str:
    text = str(statement.compile(dialect=dialect)).strip()
    return "\n".join(line.rstrip() for line in text.splitlines()) + ";\n"


def _ignore(*_: Any, **__: Any) -> None:
    pass


def main() -> None:
    from trainer.jobs.migrations.baseline import baseline_metadata

    (dialect,) = sys.argv[1:]  # sqlite or postgresql
    sys.stdout.write(ddl(baseline_metadata(), dialect))


if __name__ == "__main__":
    main()
