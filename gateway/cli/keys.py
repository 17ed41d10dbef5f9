"""``loragate keys``: create, list and revoke API keys, straight in the product database.

For the operator of the host (it reads the same settings as the gateway); no gateway needs
to run. Over HTTP, admins use ``/admin/keys`` instead.
"""

from __future__ import annotations

import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.auth.caller import ADMIN, USER
from gateway.auth.keys import InvalidKeyRequest, KeyStore, open_key_store
from gateway.settings import Settings

app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def _store() -> KeyStore:
    return open_key_store(Settings())


@app.command()
def create(
    name: Annotated[str, typer.Option(help="The user it is for (all keys of a name: one user).")],
    rpm: Annotated[
        int | None, typer.Option(help="Requests per minute (default: settings).")
    ] = None,
    tpm: Annotated[int | None, typer.Option(help="Tokens per minute (default: settings).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May manage keys and adapters.")] = False,
) -> None:
    """Create a key and print its secret, which is shown this once."""
    store = _store()
    try:
        key, secret = store.create(name, ADMIN if admin else USER, rpm, tpm, created_by="cli")
    except InvalidKeyRequest as exc:
        errors.print(f"[red]{exc.param}[/]: {exc.message}")
        raise typer.Exit(1) from None
    finally:
        store.close()
    errors.print(f"created {key.role} key {key.id} for {key.name}")
    errors.print("[yellow]store the secret now: it is shown only once and cannot be recovered[/]")
    typer.echo(secret)


@app.command("list")
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
) -> None:
    """The keys (never their secrets): id, name, role, limits, hint, created, revoked."""
    store = _store()
    try:
        keys = [key for key in store.list() if all_keys or key.revoked_at is None]
    finally:
        store.close()
    table = Table("id", "name", "role", "rpm", "tpm", "hint", "created", "revoked")
    for key in keys:
        table.add_row(
            key.id, key.name, key.role, _limit(key.rpm), _limit(key.tpm), key.hint,
            _when(key.created_at), _when(key.revoked_at),
        )  # fmt: skip
    console.print(table)


@app.command()
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (key-...).")]) -> None:
    """Revoke a key; every gateway worker refuses it within ``auth.cache_s`` seconds."""
    store = _store()
    try:
        key = store.revoke(key_id)
    finally:
        store.close()
    if key is None:
        errors.print(f"[red]no such key[/]: {key_id}")
        raise typer.Exit(1)
    console.print(f"revoked {key.id} ({key.name}, {key.hint})")


def _limit(value: int | None) -> str:
    return "default" if value is None else str(value)


def _when(unix: int | None) -> str:
    if unix is None:
        return ""
    return datetime.datetime.fromtimestamp(unix).isoformat(sep=" ", timespec="seconds")
