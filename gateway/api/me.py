"""``GET /v1/me``: who the key is (its user and role), for consoles and scripts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.api.deps import CallerDep

router = APIRouter(prefix="/v1", tags=["auth"])


@router.get("/me")
def who_am_i(caller: CallerDep) -> dict[str, Any]:
    """The calling key: id, user (``owner``), role and its own limits (null: the defaults).
    A console uses it to check a pasted key and to show or hide admin pages."""
    return {
        "object": "api_key.caller",
        "key_id": caller.key_id,
        "owner": caller.owner,
        "role": caller.role,
        "rpm": caller.rpm,
        "tpm": caller.tpm,
    }
