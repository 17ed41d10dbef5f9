"""The first start's admin key: created once, written 0600, reused, replaced when stale."""

from __future__ import annotations

import stat
from pathlib import Path

from gateway.auth.bootstrap import ensure_admin_key
from gateway.auth.caller import ADMIN
from gateway.auth.keys import open_key_store
from gateway.settings import Settings


def admins(settings: Settings) -> list[str]:
    store = open_key_store(settings)
    try:
        return [key.id for key in store.list() if key.role == ADMIN and key.revoked_at is None]
    finally:
        store.close()


def is_admin_secret(settings: Settings, secret: str) -> bool:
    store = open_key_store(settings)
    try:
        caller = store.lookup(secret)
        return caller is not None and caller.is_admin
    finally:
        store.close()


def test_the_first_start_writes_an_admin_key_only_its_owner_can_read(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    path = ensure_admin_key(settings)
    assert path == tmp_path / "admin.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text().strip()
    assert is_admin_secret(settings, secret)
    assert len(admins(settings)) == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".admin.key")] == []


def test_a_later_start_reuses_the_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = ensure_admin_key(settings)
    assert first is not None
    secret = first.read_text()
    assert ensure_admin_key(settings) == first
    assert first.read_text() == secret
    assert len(admins(settings)) == 1


def test_a_stale_file_is_replaced_when_no_admin_key_is_left(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auth={"admin_key_file": tmp_path / "keys" / "root"})
    settings.admin_key_path.parent.mkdir()
    settings.admin_key_path.write_text("lg-from-a-deleted-database\n")
    path = ensure_admin_key(settings)
    assert path == tmp_path / "keys" / "root"
    assert is_admin_secret(settings, path.read_text().strip())


def test_nothing_is_created_when_an_admin_key_exists_or_auth_is_off(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    store = open_key_store(settings)
    store.create("ops", ADMIN)
    store.close()
    assert ensure_admin_key(settings) is None
    assert not settings.admin_key_path.exists()
    off = Settings(data_dir=tmp_path / "off", auth={"enabled": False})
    assert ensure_admin_key(off) is None
    assert not off.admin_key_path.exists()
