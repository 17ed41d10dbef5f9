"""API keys at rest: created with a random secret, stored as its SHA-256, looked up by it.

The secret (``lg-`` + 43 URL-safe characters) exists only in the answer to ``create``; the
database keeps its hash and a hint (``lg-...abcd``) that lets people tell keys apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time

from pydantic import BaseModel, Field
from sqlalchemy import exists, select, update

from gateway.auth.caller import ADMIN, ROLES, USER, Caller
from gateway.settings import Settings
from gateway.state.db import StateDatabase
from gateway.state.tables import ApiKeyRow
from trainer.jobs.states import new_id

SECRET_PREFIX = "lg-"
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class InvalidKeyRequest(ValueError):
    """A key could not be created as asked; ``param`` names the field at fault."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class ApiKey(BaseModel):
    """An API key as clients and operators see it: never the secret, never its hash."""

    id: str
    object: str = "api_key"
    name: str = Field(description="The user the key belongs to; every key of a name is one user.")
    role: str = Field(description="admin or user.")
    rpm: int | None = Field(description="Requests per minute; None: the configured default.")
    tpm: int | None = Field(description="Tokens per minute; None: the configured default.")
    hint: str = Field(description="lg-... and the secret's last 4 characters.")
    created_at: int
    created_by: str | None = Field(description="Name of the admin (or 'cli') that made it.")
    revoked_at: int | None = None


def hash_secret(secret: str) -> str:
    """What is stored in place of a secret: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _hint(secret: str) -> str:
    return f"{SECRET_PREFIX}...{secret[-4:]}"


def _public(row: ApiKeyRow) -> ApiKey:
    return ApiKey(
        id=row.id, name=row.name, role=row.role, rpm=row.rpm, tpm=row.tpm, hint=row.hint,
        created_at=row.created_at, created_by=row.created_by, revoked_at=row.revoked_at,
    )  # fmt: skip


def check_request(name: str, role: str, rpm: int | None, tpm: int | None) -> None:
    """Raise :class:`InvalidKeyRequest` for the first thing wrong with a new key's fields."""
    if not _NAME.match(name):
        raise InvalidKeyRequest("name", "name must be 1-64 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise InvalidKeyRequest("role", f"role must be one of {', '.join(ROLES)}")
    for param, value in (("rpm", rpm), ("tpm", tpm)):
        if value is not None and value < 1:
            raise InvalidKeyRequest(param, f"{param} must be at least 1")


class KeyStore:
    """API keys in the product database. ``default_rpm``/``default_tpm`` apply to keys
    created without their own limits (read at lookup, so changing the default applies)."""

    def __init__(
        self, db: StateDatabase, default_rpm: int | None = None, default_tpm: int | None = None
    ) -> None:
        self.db = db
        self.default_rpm = default_rpm
        self.default_tpm = default_tpm

    def create(
        self,
        name: str,
        role: str = USER,
        rpm: int | None = None,
        tpm: int | None = None,
        created_by: str | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is shown this once and never stored."""
        check_request(name, role, rpm, tpm)
        secret = new_secret()
        row = ApiKeyRow(
            id=new_id("key"), name=name, secret_hash=hash_secret(secret), hint=_hint(secret),
            role=role, rpm=rpm, tpm=tpm, created_at=int(time.time()), created_by=created_by,
        )  # fmt: skip
        with self.db.session() as session, session.begin():
            session.add(row)
        return _public(row), secret

    def list(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        with self.db.session() as session:
            return [_public(row) for row in session.scalars(select(ApiKeyRow).order_by("seq"))]

    def get(self, key_id: str) -> ApiKey | None:
        with self.db.session() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.id == key_id))
        return _public(row) if row is not None else None

    def revoke(self, key_id: str) -> ApiKey | None:
        """Revoke a key (a revoked key stays revoked, with its first revocation time);
        None when there is no such key."""
        query = (
            update(ApiKeyRow)
            .where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
            .values(revoked_at=int(time.time()))
        )
        with self.db.session() as session, session.begin():
            session.execute(query)
        return self.get(key_id)

    def lookup(self, secret: str) -> Caller | None:
        """The caller a secret stands for; None when it is unknown or revoked."""
        return self.lookup_hash(hash_secret(secret))

    def lookup_hash(self, secret_hash: str) -> Caller | None:
        query = select(ApiKeyRow).where(
            ApiKeyRow.secret_hash == secret_hash, ApiKeyRow.revoked_at.is_(None)
        )
        with self.db.session() as session:
            row = session.scalar(query)
        if row is None:
            return None
        return Caller(
            key_id=row.id,
            owner=row.name,
            role=row.role,
            rpm=row.rpm if row.rpm is not None else self.default_rpm,
            tpm=row.tpm if row.tpm is not None else self.default_tpm,
        )

    def close(self) -> None:
        self.db.close()

    def has_active_admin(self) -> bool:
        active_admin = exists().where(ApiKeyRow.role == ADMIN, ApiKeyRow.revoked_at.is_(None))
        with self.db.session() as session:
            return bool(session.scalar(select(active_admin)))


def open_key_store(settings: Settings, db: StateDatabase | None = None) -> KeyStore:
    """The key store of the configured database (``db``, when one is already open)."""
    limits = settings.limits
    db = db or StateDatabase(settings.job_database_url)
    return KeyStore(db, limits.default_rpm, limits.default_tpm)
