"""The OpenAPI document as loragate answers: every status a route can answer, in OpenAI's
error shape, with the headers that matter.

Routers declare their own refusals once with :func:`errors` (``APIRouter(responses=...)``);
what holds for many routes at once is added here, from the same facts the middleware acts
on: 401 and the bearer scheme on every path the auth middleware guards, 413 on every
operation with a body, ``x-request-id`` on every answer, and 400 (not FastAPI's 422) where
a body or query is validated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

ERROR_SCHEMA_NAME = "OpenAIError"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
BEARER = "bearerAuth"

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

SSE_EVENT_NAME = "ServerSentEvent"
SSE_EVENT: dict[str, Any] = {
    "type": "object",
    "description": "One event of a `text/event-stream` answer.",
    "required": ["data"],
    "properties": {
        "data": {"type": "string", "description": "A JSON object, or `[DONE]` at the end."},
        "event": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
SSE_CONTENT = {"text/event-stream": {"schema": {"$ref": f"#/components/schemas/{SSE_EVENT_NAME}"}}}

TAGS: list[dict[str, str]] = [
    {"name": "completions", "description": "OpenAI's chat and text completions, streamed or not."},
    {"name": "models", "description": "Base models and adapters (fine-tunes) by name."},
    {"name": "files", "description": "Fine-tuning datasets: upload (validated), list, delete."},
    {"name": "fine-tuning", "description": "Fine-tuning jobs, as OpenAI's API serves them."},
    {"name": "fine-tunes", "description": "The same jobs under the design card's paths."},
    {"name": "api-keys", "description": "Admin: API keys, roles and rate limits."},
    {"name": "adapters", "description": "Adapters' details; admin: load one ahead of use."},
    {"name": "engines", "description": "Admin: the engines, their load and their adapters."},
    {"name": "degradation", "description": "The degradation switch and the public status."},
    {"name": "health", "description": "Liveness and readiness (no key)."},
    {"name": "auth", "description": "Who the calling key is."},
    {"name": "admin", "description": "Admin: recent requests and errors."},
]


def operation_id(route: APIRoute) -> str:
    """``<tag>_<handler>``: readable method names in generated clients, unique although the
    two jobs routers share their handlers."""
    tag = str(route.tags[0]) if route.tags else "default"
    return f"{tag.replace('-', '_')}_{route.name}"


def header(description: str, required: bool = False) -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": "string"}}


REQUEST_ID = {"x-request-id": header("The request's id: the client's own, or a new one.", True)}
RETRY_AFTER = {"Retry-After": header("Seconds to wait before trying again.", True)}
RATE_LIMIT_HEADERS = {
    f"x-ratelimit-{what}-{kind}": header(f"The key's {kind} limit: {what} (limited keys only).")
    for kind in ("requests", "tokens")
    for what in ("limit", "remaining", "reset")
}

_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Invalid request: not JSON, or a field of the wrong shape or value (in `param`).", {}),
    401: (
        "No API key, or an unknown or revoked one (`invalid_api_key`).",
        {"WWW-Authenticate": header("Bearer", True)},
    ),
    403: ("The key's role may not do this (`insufficient_permissions`).", {}),
    404: ("No such object, or one this key may not see.", {}),
    409: ("The request conflicts with the object's state.", {}),
    413: ("The request body is larger than the limit (`request_too_large`).", {}),
    429: (
        "Over a rate limit (`rate_limit_exceeded`): retry after `Retry-After`.",
        RETRY_AFTER
        | {"retry-after-ms": header("Milliseconds to wait.", True)}
        | RATE_LIMIT_HEADERS,
    ),
    502: ("The model service failed (`upstream_error`, `adapter_load_failed`).", {}),
    503: (
        "The model service cannot take it now (`engine_unavailable`, `engine_overloaded`, "
        "`maintenance`): retry after `Retry-After`.",
        RETRY_AFTER,
    ),
    504: ("The model service did not answer in time (`upstream_timeout`).", {}),
}


def error_response(description: str, headers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI response object whose body is an OpenAI error."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if headers:
        response["headers"] = dict(headers)
    return response


def errors(*statuses: int, why: Mapping[int, str] | None = None) -> dict[int | str, Any]:
    """Response objects for ``statuses`` (for ``responses=`` of a router or a route);
    ``why`` gives a status a description of its own."""
    responses: dict[int | str, Any] = {}
    for status in statuses:
        description, headers = _ERRORS[status]
        responses[status] = error_response((why or {}).get(status, description), headers)
    return responses


def json_or_stream(schema_ref: str, description: str) -> dict[str, Any]:
    """A 200 answered as one JSON object or as server-sent events."""
    return {
        "description": description,
        "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}},
            **SSE_CONTENT,
        },
    }


def json_body(schema_ref: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON request body the handler reads itself."""
    ref = {"$ref": f"#/components/schemas/{schema_ref}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, path_item in document.get("paths", {}).items():
        for operation in path_item.values():
            yield path, operation


def _validation_as_400(document: dict[str, Any]) -> None:
    for _, operation in _operations(document):
        responses = operation.get("responses", {})
        if responses.pop("422", None) is not None:
            responses.setdefault("400", errors(400)[400])
    schemas = document["components"]["schemas"]
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)


def _authenticated(document: dict[str, Any], guarded: Callable[[str], bool]) -> None:
    """The bearer scheme and 401 on every path the auth middleware guards."""
    document["components"]["securitySchemes"] = {BEARER: {"type": "http", "scheme": "bearer"}}
    for path, operation in _operations(document):
        if guarded(path):
            operation["security"] = [{BEARER: []}]
            operation["responses"].setdefault("401", errors(401)[401])


def _common(document: dict[str, Any]) -> None:
    """413 where a body is taken; ``x-request-id`` on every answer."""
    for _, operation in _operations(document):
        responses = operation["responses"]
        if "requestBody" in operation:
            responses.setdefault("413", errors(413)[413])
        for response in responses.values():
            response.setdefault("headers", {}).update(REQUEST_ID)


def _files_as_binary(document: dict[str, Any]) -> None:
    """Uploads also say ``format: binary`` (OpenAPI 3.0's way, which client generators
    read; FastAPI writes only 3.1's ``contentMediaType``)."""
    for schema in document["components"]["schemas"].values():
        for field in schema.get("properties", {}).values():
            if field.get("contentMediaType") == "application/octet-stream":
                field.setdefault("format", "binary")


def _add_models(
    document: dict[str, Any], models: list[type[BaseModel]], model_name: str | None
) -> None:
    """Schemas the routes point at by ``$ref`` but FastAPI does not see (bodies read by hand);
    their ``model`` field gets the served model's name as its example."""
    schemas = document["components"]["schemas"]
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        field = schema.get("properties", {}).get("model")
        if model_name and field is not None:
            field["examples"] = [model_name]
        schemas[model.__name__] = schema


def install_openapi(
    app: FastAPI,
    guarded: Callable[[str], bool] | None = None,
    models: list[type[BaseModel]] | None = None,
    model_name: str | None = None,
) -> None:
    """Replace the app's ``openapi()`` with one that documents loragate's real answers.

    ``guarded(path)``: whether the path needs a key (None: auth is off); ``models``: schemas
    to add for bodies the handlers read themselves; ``model_name``: the served base model.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=TAGS,
            )
            document.setdefault("components", {}).setdefault("schemas", {})
            _validation_as_400(document)
            _files_as_binary(document)
            _add_models(document, models or [], model_name)
            document["components"]["schemas"][ERROR_SCHEMA_NAME] = ERROR_SCHEMA
            document["components"]["schemas"][SSE_EVENT_NAME] = SSE_EVENT
            if guarded is not None:
                _authenticated(document, guarded)
            _common(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
