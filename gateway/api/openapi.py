"""The OpenAPI document as loragate answers: every refusal in OpenAI's error shape.

FastAPI documents a 422 ``HTTPValidationError`` for every route with parameters; loragate
answers those cases with 400 ``invalid_request_error`` (see :mod:`gateway.errors`), so the
document says 400 with the OpenAI error schema instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA_NAME = "OpenAIError"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}


def error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response object whose body is an OpenAI error."""
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _validation_as_400(document: dict[str, Any]) -> None:
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None:
                responses.setdefault(
                    "400", error_response("Invalid request (the field is named in `param`).")
                )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas[ERROR_SCHEMA_NAME] = ERROR_SCHEMA


def install_openapi(app: FastAPI) -> None:
    """Replace the app's ``openapi()`` with one that documents loragate's real answers."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, routes=app.routes, tags=app.openapi_tags
            )
            _validation_as_400(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
