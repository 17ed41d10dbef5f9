"""Pure-ASGI authentication: ``Authorization: Bearer <key>`` -> the caller, or a 401.

The caller goes into ``scope["state"]["caller"]``, where :func:`gateway.auth.caller.caller_of`
reads it. A known key costs a hash and a dict look-up; the database is asked (in a thread)
only when the per-process cache has no fresh answer. Keys are never logged.
"""

from __future__ import annotations

import anyio.to_thread
import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth.cache import KeyCache
from gateway.auth.caller import ANONYMOUS, CALLER_KEY, Caller
from gateway.auth.keys import KeyStore, hash_secret
from gateway.errors import APIError, unauthorized

PUBLIC_PATHS = frozenset(
    {"/metrics", "/v1/status", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/ui"}
)
PUBLIC_PREFIXES = ("/health/", "/ui/")  # /ui: the console's static files (no data in them)
MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
BAD_KEY = (
    "Incorrect API key provided. It is unknown or has been revoked; ask an admin for a key "
    "(an operator can create one with `loragate keys create`)."
)


def is_public(path: str) -> bool:
    """Whether ``path`` is served without a key (health, metrics, status, API docs, the
    console's static files)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def bearer_token(scope: Scope) -> str | None:
    """The token of the request's ``Authorization: Bearer`` header, if it has one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


class AuthMiddleware:
    """Record who is calling, or refuse with 401 in the OpenAI error format.

    ``keys`` is None when auth is off: every request is then the anonymous caller.
    """

    def __init__(self, app: ASGIApp, keys: KeyStore | None, cache: KeyCache) -> None:
        self.app = app
        self.keys = keys
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.keys is None:
            scope.setdefault("state", {})[CALLER_KEY] = ANONYMOUS
        elif not is_public(scope["path"]):
            token = bearer_token(scope)
            caller = await self._caller(token) if token else None
            if caller is None:
                await _refuse(send, unauthorized(BAD_KEY if token else MISSING_KEY))
                return
            scope.setdefault("state", {})[CALLER_KEY] = caller
        await self.app(scope, receive, send)

    async def _caller(self, token: str) -> Caller | None:
        secret_hash = hash_secret(token)
        fresh, caller = self.cache.get(secret_hash)
        if fresh:
            return caller
        assert self.keys is not None
        caller = await anyio.to_thread.run_sync(self.keys.lookup_hash, secret_hash)
        self.cache.put(secret_hash, caller)
        return caller


async def _refuse(send: Send, error: APIError) -> None:
    headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": orjson.dumps(error.body())})
