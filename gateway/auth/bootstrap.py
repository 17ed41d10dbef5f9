"""The first start's admin key: auth is on by default, so someone must hold a key.

``loragate up`` and ``loragate serve`` call :func:`ensure_admin_key` before the gateway
starts. Only the operator of the host can read the file it writes (mode 0600).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rich.console import Console

from gateway.auth.caller import ADMIN
from gateway.auth.keys import KeyStore, open_key_store
from gateway.settings import Settings

BOOTSTRAP_NAME = "admin"
console = Console(stderr=True)


def ensure_admin_key(settings: Settings) -> Path | None:
    """Make sure an admin can call the gateway; the path of the admin key file, if usable.

    Auth off: nothing to do (None). The file holds a valid admin key: reused as is. No
    active admin key at all: one named ``admin`` is created and written to the file. An
    admin key exists elsewhere (made with ``loragate keys create --admin``): None.
    """
    if not settings.auth.enabled:
        return None
    path = settings.admin_key_path
    store = open_key_store(settings)
    try:
        if _holds_admin_key(store, path):
            return path
        if store.has_active_admin():
            if path.exists():
                console.print(f"[yellow]{path} holds no valid admin key[/]; it was left as is")
            return None
        _, secret = store.create(BOOTSTRAP_NAME, ADMIN, created_by="bootstrap")
    finally:
        store.close()
    write_secret(path, secret)
    console.print(f"admin key written to {path} (keep it secret; it is shown nowhere else)")
    return path


def _holds_admin_key(store: KeyStore, path: Path) -> bool:
    try:
        secret = path.read_text().strip()
    except OSError:
        return False
    caller = store.lookup(secret) if secret else None
    return caller is not None and caller.is_admin


def write_secret(path: Path, secret: str) -> None:
    """Write ``secret`` to ``path`` readable by its owner only, all at once or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w") as out:
            out.write(secret + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
