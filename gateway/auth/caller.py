"""Who is calling: what the auth middleware puts in ``scope["state"]["caller"]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ADMIN = "admin"
USER = "user"
ROLES = (ADMIN, USER)
CALLER_KEY = "caller"


@dataclass(frozen=True, slots=True)
class Caller:
    """The API key a request came with (or the anonymous caller when auth is off)."""

    key_id: str
    owner: str | None
    """The key's name: every key of one name is one user, who owns their jobs and adapters.
    None when auth is off (then everything is everyone's)."""
    role: str
    rpm: int | None = None
    tpm: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def owner_filter(self) -> str | None:
        """The owner whose objects alone this caller sees in listings; None: it sees all."""
        return None if self.is_admin else self.owner

    def may_see(self, owner: str | None) -> bool:
        """Whether this caller may see an object owned by ``owner``."""
        return self.is_admin or self.owner is None or owner == self.owner


ANONYMOUS = Caller(key_id="anonymous", owner=None, role=ADMIN)
"""The caller of every request while auth is off: trusted, unlimited per key."""


NOBODY = Caller(key_id="nobody", owner="", role="none")
"""The caller of a request the auth middleware recorded no caller for: allowed nothing, so
an app wired without the middleware fails closed."""


def caller_of(state: Mapping[str, object]) -> Caller:
    """The caller the auth middleware recorded in a request's scope state (else NOBODY)."""
    caller = state.get(CALLER_KEY)
    return caller if isinstance(caller, Caller) else NOBODY
