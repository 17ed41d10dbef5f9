"""Bad requests get the right status and an OpenAI error body; the gateway keeps serving.

On both databases: the shared stack (SQLite), and a second gateway in front of the same
engine whose store (keys, degradation switch, files, jobs) is PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openai import BadRequestError, NotFoundError, OpenAI

from tests.helpers import Stack, start_gateway, stop_stack
from tests.postgres_server import fresh_database

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str:
    """The store's database (its own name: a parameter named ``stack`` would also key, and so
    restart, the session's stack)."""
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def stack(
    database: str,
    stack: Stack,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The session's stack (SQLite), then a gateway over its engine with a PostgreSQL store."""
    if database == "sqlite":
        yield stack
        return
    root = tmp_path_factory.mktemp("bad-input-pg")
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        env = {"LORAGATE_DATABASE_URL": url}
        gateway = start_gateway(stack, root / "data", root / "serve.log", **env)
        try:
            yield gateway
        finally:
            stop_stack(gateway)


def post(stack: Stack, body: bytes | str, path: str = "/v1/chat/completions") -> httpx.Response:
    return httpx.post(
        stack.base_url + path,
        content=body,
        headers={"content-type": "application/json", **stack.headers},
        timeout=30,
    )


def assert_openai_error(
    resp: httpx.Response, status: int, code: str | None = None
) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    error: dict[str, Any] = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    assert "Traceback" not in resp.text
    return error


def test_malformed_json(stack: Stack) -> None:
    assert_openai_error(post(stack, '{"model": '), 400, "invalid_json")


def test_empty_body(stack: Stack) -> None:
    assert_openai_error(post(stack, ""), 400, "invalid_json")


def test_missing_messages(stack: Stack) -> None:
    error = assert_openai_error(post(stack, f'{{"model": "{stack.model}"}}'), 400, "invalid_value")
    assert error["param"] == "messages"


@pytest.mark.parametrize(
    ("fragment", "param"),
    [
        ('"messages": "hi"', "messages"),
        ('"messages": [{"role": "robot", "content": "hi"}]', "messages.0.role"),
        ('"messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"', "max_tokens"),
        ('"messages": [{"role": "user", "content": "hi"}], "stream": "yes"', "stream"),
        ('"messages": [{"role": "user", "content": "hi"}], "temperature": 9', "temperature"),
        ('"messages": [{"role": "user"}]', "messages.0.content"),
        (
            '"messages": [{"role": "system", "content": null}, {"role": "user", "content": "hi"}]',
            "messages.0.content",
        ),
        ('"messages": [{"role": "assistant"}, {"role": "user", "content": "hi"}]', "messages.0"),
    ],
)
def test_wrong_types(stack: Stack, fragment: str, param: str) -> None:
    body = f'{{"model": "{stack.model}", {fragment}}}'
    error = assert_openai_error(post(stack, body), 400, "invalid_value")
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_body_that_is_not_an_object(stack: Stack) -> None:
    assert_openai_error(post(stack, "[1, 2]"), 400, "invalid_value")


def test_the_sdk_raises_bad_request_for_a_malformed_body(stack: Stack) -> None:
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
    no_content: Any = [{"role": "user"}]
    with pytest.raises(BadRequestError) as caught:
        client.chat.completions.create(model=stack.model, messages=no_content)
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_value"
    assert caught.value.param == "messages.0.content"


def test_a_wrong_method_is_405_with_allow(stack: Stack) -> None:
    resp = httpx.put(f"{stack.base_url}/v1/models", headers=stack.headers)
    error = assert_openai_error(resp, 405, "method_not_allowed")
    assert error["type"] == "invalid_request_error"
    assert resp.headers["allow"] == "GET"


def test_unknown_model_is_404_for_the_sdk(stack: Stack) -> None:
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
    with pytest.raises(NotFoundError) as caught:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.code == "model_not_found"


def test_max_tokens_beyond_the_context(stack: Stack) -> None:
    body = (
        f'{{"model": "{stack.model}", "messages": [{{"role": "user", "content": "hi"}}],'
        ' "max_tokens": 100000}'
    )
    error = assert_openai_error(post(stack, body), 400)
    assert error["type"] == "invalid_request_error"
    assert "max_tokens" in error["message"]


def test_oversized_body(stack: Stack) -> None:
    big = "x" * (9 * 1024 * 1024)
    body = f'{{"model": "{stack.model}", "messages": [{{"role": "user", "content": "{big}"}}]}}'
    assert_openai_error(post(stack, body), 413, "request_too_large")


def test_unknown_route_is_an_openai_404(stack: Stack) -> None:
    assert_openai_error(httpx.get(f"{stack.base_url}/v1/nothing-here", headers=stack.headers), 404)


def test_still_serving_after_bad_input(stack: Stack) -> None:
    body = f'{{"model": "{stack.model}", "prompt": "hi", "max_tokens": 2}}'
    resp = post(stack, body, "/v1/completions")
    assert resp.status_code == 200
    assert resp.json()["usage"]["completion_tokens"] == 2


def test_the_store_is_the_database_named(stack: Stack, database: str) -> None:
    """The PostgreSQL gateway keeps nothing in a SQLite file (its store is really elsewhere)."""
    assert (stack.data_dir / "loragate.db").exists() == (database == "sqlite")
