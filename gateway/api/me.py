"""``GET /v1/me``: who the key is (its user and role), for consoles and scripts."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.deps import CallerDep
from gateway.api.open_objects import KeyCaller

router = APIRouter(prefix="/v1", tags=["auth"])


@router.get("/me", summary="Who the key is")
def who_am_i(caller: CallerDep) -> KeyCaller:
    """The calling key: id, user (``owner``), role and its own limits (null: the defaults).
    A console uses it to check a pasted key and to show or hide admin pages."""
    return KeyCaller.model_validate(
        {
            "object": "api_key.caller",
            "key_id": caller.key_id,
            "owner": caller.owner,
            "role": caller.role,
            "rpm": caller.rpm,
            "tpm": caller.tpm,
        }
    )
