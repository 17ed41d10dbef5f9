"""A real PostgreSQL for the tests (Debian's ``postgresql``): its own cluster in a temporary
folder, listening on 127.0.0.1 on a free port, no Unix socket in a system folder.

PostgreSQL refuses to run as root; under root (containers, CI) the cluster belongs to the
``postgres`` system user the Debian package creates, and the server runs as that user.
Each test gets a database of its own (``fresh_database``), dropped after it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import free_port

SERVER_USER = "postgres"  # made by Debian's package; the server's owner when we are root


def postgres_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else Debian's newest version."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(os.path.realpath(on_path)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def require_postgres() -> Path:
    """PostgreSQL's binaries; skips the test without them, except in CI, where it fails."""
    folder = postgres_bin()
    if folder is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is missing: scripts/system-deps.sh installs it")
        pytest.skip("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
    return folder


def _as_server_user() -> list[str]:
    """The command prefix that runs a server command as a non-root user."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SERVER_USER, "--"]


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a throw-away cluster; yield the SQLAlchemy URL of its ``postgres`` database."""
    binaries = require_postgres()
    folder = Path(tempfile.mkdtemp(prefix="loragate-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, port, prefix = folder / "data", free_port(), _as_server_user()
    run = [*prefix, str(binaries / "initdb"), "-D", str(data), "-U", "loragate"]
    _run([*run, "--auth=trust", "-E", "UTF8", "--no-sync"])
    options = f"-h 127.0.0.1 -p {port} -k {folder} -F -c fsync=off -c max_connections=200"
    start = [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(folder / "log")]
    _run([*start, "-o", options, "-w", "-t", "60", "start"])
    try:
        yield f"postgresql+psycopg://loragate@127.0.0.1:{port}/postgres"
    finally:
        stop = [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        _run(stop, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _run(args: list[str], check: bool = True) -> None:
    subprocess.run(args, check=check, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on the server; yields its URL; drops it after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
