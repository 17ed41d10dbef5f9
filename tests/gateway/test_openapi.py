"""The OpenAPI document is the contract: every operation tagged, summarised, typed, and
declaring the refusals its path can answer, in OpenAI's error shape."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Mount, Route

from gateway.api.openapi import ERROR_SCHEMA_NAME, TAGS
from gateway.app import create_app
from gateway.auth.middleware import is_public
from gateway.settings import Settings

Operation = tuple[str, str, dict[str, Any]]
ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA_NAME}"


def document_of(tmp_path: Path, auth: bool = True) -> dict[str, Any]:
    settings = Settings(
        data_dir=tmp_path / "data",
        served_model_name="loragate-tiny",
        upstreams=["http://127.0.0.1:9"],
        auth={"enabled": auth},
    )
    document: dict[str, Any] = create_app(settings).openapi()
    return document


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return document_of(tmp_path_factory.mktemp("openapi"))


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def test_every_operation_has_a_known_tag_and_a_summary(document: dict[str, Any]) -> None:
    known = {tag["name"] for tag in TAGS}
    assert {tag["name"] for tag in document["tags"]} == known
    for method, path, operation in operations(document):
        assert len(operation["tags"]) == 1, (method, path)
        assert operation["tags"][0] in known, (method, path)
        assert operation.get("summary"), (method, path)


def test_guarded_paths_declare_401_and_the_bearer_scheme(document: dict[str, Any]) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    public = []
    for method, path, operation in operations(document):
        if is_public(path):
            public.append(path)
            assert "401" not in operation["responses"], (method, path)
            assert "security" not in operation, (method, path)
        else:
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]["required"]
    assert set(public) == {"/health/live", "/health/ready", "/v1/status", "/metrics"}


def test_without_auth_no_401_is_declared(tmp_path: Path) -> None:
    for method, path, operation in operations(document_of(tmp_path, auth=False)):
        assert "401" not in operation["responses"], (method, path)


def test_every_refusal_is_an_openai_error_with_a_request_id(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        assert "422" not in operation["responses"], (method, path)
        for status, response in operation["responses"].items():
            assert response["headers"]["x-request-id"]["required"], (method, path, status)
            if int(status) >= 400 and path != "/health/ready":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)


def test_bodies_may_be_refused_as_invalid_or_too_large(document: dict[str, Any]) -> None:
    with_body = [(m, p, op) for m, p, op in operations(document) if "requestBody" in op]
    assert len(with_body) >= 8
    for method, path, operation in with_body:
        assert {"400", "413"} <= set(operation["responses"]), (method, path)


def test_answers_are_typed(document: dict[str, Any]) -> None:
    """Every JSON answer names a schema of the document (no untyped dict)."""
    schemas = document["components"]["schemas"]
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                if media != "application/json":
                    continue
                ref = content["schema"].get("$ref", "")
                assert ref.startswith("#/components/schemas/"), (method, path, status)
                assert ref.rsplit("/", 1)[1] in schemas, (method, path, status)


def test_admin_operations_declare_403(document: dict[str, Any]) -> None:
    admin = [(m, p, op) for m, p, op in operations(document) if p.startswith("/admin/")]
    admin.append(
        ("DELETE", "/v1/models/{model}", document["paths"]["/v1/models/{model}"]["delete"])
    )
    assert len(admin) >= 8
    for method, path, operation in admin:
        assert "403" in operation["responses"], (method, path)


@pytest.mark.parametrize(
    ("path", "request_schema", "answer_schema"),
    [
        ("/v1/chat/completions", "ChatCompletionRequest", "ChatCompletion"),
        ("/v1/completions", "CompletionRequest", "Completion"),
    ],
)
def test_completions_document_their_body_and_answers(
    document: dict[str, Any], path: str, request_schema: str, answer_schema: str
) -> None:
    operation = document["paths"][path]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{request_schema}"}
    schema = document["components"]["schemas"][request_schema]
    assert "model" in schema["required"]
    ok = operation["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/event-stream"}
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith(answer_schema)
    assert ok["headers"]["x-loragate-upstream"]["required"]
    responses = operation["responses"]
    assert {"400", "401", "404", "413", "429", "502", "503", "504"} <= set(responses)
    for status in ("429", "503"):
        assert responses[status]["headers"]["Retry-After"]["required"], status
    assert "x-ratelimit-remaining-requests" in responses["429"]["headers"]
    assert "#/$defs" not in str(document["components"]["schemas"])


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(document)
    assert len(list(schema.get_all_operations())) == sum(1 for _ in operations(document))


@pytest.mark.parametrize(
    "message",
    [
        {"role": "user", "content": "hi"},
        {"role": "user"},
        {"role": "user", "content": None},
        {"role": "system", "content": [{"type": "text", "text": "x"}]},
        {"role": "tool", "content": None, "tool_call_id": "1"},
        {"role": "assistant", "content": "yo"},
        {"role": "assistant"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
        {"role": "function", "content": None, "name": "f"},
        {"role": "robot", "content": "hi"},
    ],
)
def test_the_documented_message_rules_are_the_gateways(message: dict[str, Any]) -> None:
    """The document's schema of a chat message accepts exactly what the gateway accepts."""
    jsonschema = pytest.importorskip("jsonschema")
    from pydantic import ValidationError

    from gateway.openai.protocol import ChatMessage

    try:
        ChatMessage.model_validate(message)
        accepted = True
    except ValidationError:
        accepted = False
    validator = jsonschema.Draft202012Validator(ChatMessage.model_json_schema())
    assert validator.is_valid(message) == accepted, message


def test_fastapi_does_not_parse_completion_bodies(tmp_path: Path) -> None:
    """Documented, not parsed: the serving code validates the bytes once, by itself."""
    from fastapi.routing import APIRoute

    app = create_app(Settings(data_dir=tmp_path, upstreams=["http://127.0.0.1:9"]))
    routes = {r.path: r for r in app.routes if isinstance(r, APIRoute)}
    for path in ("/v1/chat/completions", "/v1/completions"):
        assert routes[path].body_field is None, path
        assert not routes[path].dependant.body_params, path


def test_operation_ids_are_unique_and_readable(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert "completions_chat_completions" in ids
    assert "fine_tunes_create_job" in ids
    assert "fine_tuning_create_job" in ids


def test_uploads_are_binary_for_client_generators(document: dict[str, Any]) -> None:
    upload = document["paths"]["/v1/files"]["post"]["requestBody"]["content"]
    ref = upload["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    field = document["components"]["schemas"][ref]["properties"]["file"]
    assert (field["type"], field["format"]) == ("string", "binary")


def test_every_route_but_the_docs_and_the_console_is_documented(tmp_path: Path) -> None:
    """The fuzz test reaches only what the document lists: a route left out of it would
    never be fuzzed. HEAD is Starlette's own twin of each GET."""
    settings = Settings(data_dir=tmp_path / "data", upstreams=["http://127.0.0.1:9"])
    app = create_app(settings)
    documented = {(method, path) for method, path, _ in operations(app.openapi())}
    not_api = ("/openapi.json", "/docs", "/redoc", "/ui")
    served = {
        (method, re.sub(r":\w+}", "}", route.path))
        for route in app.routes
        if isinstance(route, Route | Mount) and not route.path.startswith(not_api)
        for method in getattr(route, "methods", None) or {"MOUNT"}
        if method != "HEAD"
    }
    assert served == documented
