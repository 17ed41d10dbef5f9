"""The key-management API's logic, over the key store."""

from __future__ import annotations

from gateway.admin.protocol import CreatedKey, KeyCreate, KeyList
from gateway.auth.cache import KeyCache
from gateway.auth.caller import Caller
from gateway.auth.keys import ApiKey, InvalidKeyRequest, KeyStore
from gateway.errors import APIError


def key_not_found(key_id: str) -> APIError:
    return APIError(404, f"No such API key: '{key_id}'.", param="id", code="key_not_found")


class KeyServing:
    """Create, list, read and revoke keys; ``cache`` is this worker's lookup cache, emptied
    on a revocation so this worker refuses the key at once (others within ``cache_s``)."""

    def __init__(self, store: KeyStore, cache: KeyCache) -> None:
        self.store = store
        self.cache = cache

    def create(self, body: KeyCreate, admin: Caller) -> CreatedKey:
        try:
            key, secret = self.store.create(
                body.name, body.role, body.rpm, body.tpm, created_by=admin.owner
            )
        except InvalidKeyRequest as exc:
            raise APIError(400, exc.message, param=exc.param, code="invalid_value") from None
        return CreatedKey(**key.model_dump(), key=secret)

    def list(self) -> KeyList:
        return KeyList(data=self.store.list())

    def get(self, key_id: str) -> ApiKey:
        key = self.store.get(key_id)
        if key is None:
            raise key_not_found(key_id)
        return key

    def revoke(self, key_id: str, admin: Caller) -> ApiKey:
        """Revoke ``key_id``; 409 when it is the key making the request (an admin who
        revokes their own last key locks everyone out of the API)."""
        if key_id == admin.key_id:
            message = "An API key cannot revoke itself; use another admin key or the CLI."
            raise APIError(409, message, param="id", code="own_key")
        key = self.store.revoke(key_id)
        if key is None:
            raise key_not_found(key_id)
        self.cache.clear()
        return key
