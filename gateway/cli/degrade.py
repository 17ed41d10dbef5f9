"""``loragate degrade``: flip or show the degradation switch, straight in the product database.

For the operator of the host (it reads the same settings as the gateway); no gateway needs
to run, and every gateway worker and replica obeys within ``switch_refresh_s``. Over HTTP,
admins use ``PUT/GET /admin/degradation``.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.protection.modes import Mode
from gateway.protection.protocol import DegradationEntry
from gateway.protection.switch_store import SwitchStore
from gateway.settings import Settings
from gateway.state.db import StateDatabase

app = typer.Typer(help="Set or show the degradation mode.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def _open() -> tuple[StateDatabase, SwitchStore]:
    db = StateDatabase(Settings().job_database_url)
    return db, SwitchStore(db)


@app.command("set")
def set_mode(
    mode: Annotated[Mode, typer.Argument(help="normal, base-only, fallback or maintenance.")],
    reason: Annotated[
        str, typer.Option(help="Why (required but for normal); shown on /v1/status.")
    ] = "",
) -> None:
    """Set the mode; every gateway worker obeys within about a second."""
    reason = reason.strip()
    if mode is not Mode.NORMAL and not reason:
        errors.print(f"[red]--reason[/] is required to set {mode.value}")
        raise typer.Exit(1)
    db, store = _open()
    try:
        setting = store.change(mode, reason, f"cli:{_user()}")
    finally:
        db.close()
    errors.print(f"degradation mode is now [bold]{setting.mode.value}[/] ({setting.since})")


@app.command()
def show(
    limit: Annotated[int, typer.Option(help="How many past changes to list.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The mode in force and the latest changes: when, who, why."""
    db, store = _open()
    try:
        current, history = store.current(), store.history(limit)
    finally:
        db.close()
    if as_json:
        entries = [DegradationEntry.of(s).model_dump(mode="json") for s in history]
        view = {"current": DegradationEntry.of(current).model_dump(mode="json")}
        typer.echo(json.dumps({**view, "history": entries}, indent=2))
        return
    console.print(f"mode: [bold]{current.mode.value}[/]  since {current.since or 'always'}")
    table = Table("changed at (UTC)", "mode", "by", "reason")
    for setting in history:
        table.add_row(setting.since or "", setting.mode.value, setting.actor, setting.reason)
    console.print(table)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
