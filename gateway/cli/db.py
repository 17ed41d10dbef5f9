"""``loragate db``: the product database's schema (Alembic revisions shipped in the package).

Every loragate process upgrades the schema when it opens the database (under a lock), so
this is for operators who want it done before a rollout (a Kubernetes init job, a deploy
step) or want to see where a database stands.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from gateway.settings import Settings
from trainer.jobs import schema
from trainer.jobs.db import connect

app = typer.Typer(help="The product database's schema.", no_args_is_help=True)
console = Console()

Url = Annotated[
    str | None,
    typer.Option(help="Database URL (default: LORAGATE_DATABASE_URL, else the data folder's)."),
]


@app.command()
def upgrade(url: Url = None) -> None:
    """Bring the database to the newest revision (creating it if it is empty)."""
    engine = connect(url or Settings().job_database_url, migrate=False)
    try:
        result = schema.upgrade(engine)
    finally:
        engine.dispose()
    if result.changed:
        console.print(f"upgraded the database from {result.before or 'empty'} to {result.after}")
    else:
        console.print(f"the database is at revision {result.after} (nothing to do)")


@app.command()
def current(url: Url = None) -> None:
    """Print the database's revision and this loragate's newest one."""
    engine = connect(url or Settings().job_database_url, migrate=False)
    try:
        with engine.connect() as connection:
            revision = schema.current(connection)
    finally:
        engine.dispose()
    console.print(f"database: {revision or 'empty'}; newest known: {schema.head()}")
