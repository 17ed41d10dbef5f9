"""The key store: secrets shown once and hashed at rest, revocation, look-up, validation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.auth.caller import ADMIN, USER
from gateway.auth.keys import InvalidKeyRequest, KeyStore, hash_secret
from gateway.state.db import StateDatabase


@pytest.fixture
def keys(database_url: str) -> Iterator[KeyStore]:
    """A key store on SQLite and on PostgreSQL."""
    store = KeyStore(StateDatabase(database_url), default_rpm=60, default_tpm=None)
    yield store
    store.close()


def test_a_new_key_has_a_long_random_secret_and_a_hint(keys: KeyStore) -> None:
    key, secret = keys.create("team-a", USER, rpm=10, tpm=2000, created_by="root")
    other_key, other = keys.create("team-a", USER)
    assert secret.startswith("lg-")
    assert len(secret) >= 40
    assert secret != other
    assert key.id != other_key.id
    assert key.hint == f"lg-...{secret[-4:]}"
    assert (key.object, key.name, key.role, key.rpm, key.tpm) == (
        "api_key",
        "team-a",
        USER,
        10,
        2000,
    )
    assert key.created_by == "root"
    assert key.revoked_at is None
    shown = key.model_dump_json()
    assert secret not in shown
    assert hash_secret(secret) not in shown


def test_the_secret_is_not_in_the_database_only_its_hash(keys: KeyStore) -> None:
    _, secret = keys.create("team-a", USER)
    stored = _everything_stored(keys.db.engine)
    assert hash_secret(secret).encode() in stored  # we are reading the right bytes
    assert secret.encode() not in stored
    assert secret[3:].encode() not in stored


def _everything_stored(engine: sa.Engine) -> bytes:
    """SQLite: the bytes of its files; PostgreSQL: every row of the keys table as text."""
    if engine.dialect.name != "sqlite":
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT k::text FROM api_keys k")).scalars()
            return "\n".join(rows).encode()
    engine.dispose()  # checkpoint the write-ahead log into the file
    path = Path(str(engine.url.database))
    return b"".join(file.read_bytes() for file in path.parent.glob(f"{path.name}*"))


def test_lookup_gives_the_caller_with_its_limits_or_the_defaults(keys: KeyStore) -> None:
    key, secret = keys.create("team-a", USER, tpm=500)
    caller = keys.lookup(secret)
    assert caller is not None
    assert (caller.key_id, caller.owner, caller.role) == (key.id, "team-a", USER)
    assert (caller.rpm, caller.tpm) == (60, 500)  # rpm: the configured default
    assert not caller.is_admin
    assert keys.lookup(secret + "x") is None
    assert keys.lookup("") is None


def test_a_revoked_key_is_refused_and_stays_revoked(keys: KeyStore) -> None:
    key, secret = keys.create("team-a", ADMIN)
    revoked = keys.revoke(key.id)
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert keys.lookup(secret) is None
    again = keys.revoke(key.id)
    assert again is not None
    assert again.revoked_at == revoked.revoked_at
    assert keys.revoke("key-unknown") is None


def test_list_and_get_never_hold_secrets(keys: KeyStore) -> None:
    first, secret = keys.create("a", USER)
    second, _ = keys.create("b", ADMIN)
    listed = keys.list()
    assert [key.id for key in listed] == [first.id, second.id]
    assert keys.get(first.id) == first
    assert keys.get("key-missing") is None
    assert all(secret not in key.model_dump_json() for key in listed)
    assert "secret_hash" not in listed[0].model_dump()


def test_has_active_admin_follows_admin_keys(keys: KeyStore) -> None:
    assert not keys.has_active_admin()
    keys.create("user", USER)
    assert not keys.has_active_admin()
    admin, _ = keys.create("admin", ADMIN)
    assert keys.has_active_admin()
    keys.revoke(admin.id)
    assert not keys.has_active_admin()


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "team a"}, "name"),
        ({"name": "team/a"}, "name"),
        ({"role": "root"}, "role"),
        ({"rpm": 0}, "rpm"),
        ({"tpm": -1}, "tpm"),
    ],
)
def test_invalid_fields_are_refused(keys: KeyStore, fields: dict[str, object], param: str) -> None:
    values: dict[str, object] = {"name": "ok.name_1-2", "role": USER} | fields
    with pytest.raises(InvalidKeyRequest) as refused:
        keys.create(**values)  # type: ignore[arg-type]
    assert refused.value.param == param
    assert keys.list() == []
