"""A job page's poll, ``GET .../{id}/metrics``, served straight from ASGI: the same answer as
the route for every request, and every request the route would refuse left to the route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from gateway.auth.caller import ADMIN, USER
from gateway.auth.keys import KeyStore
from gateway.finetune.metrics_endpoint import plain_poll
from gateway.settings import Settings
from tests.gateway.finetune.conftest import bearer
from tests.gateway.finetune.test_ownership import create_job, upload
from tests.trainer.jobs.helpers import write_reviews

ROUTER_MARK = "endpoint"
"""What Starlette's router writes into the request's scope when a route serves it."""


class RouterSeen:
    """Wraps the app and records, per request path and query, whether a route served it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.by_route: dict[str, bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            key = scope["path"] + "?" + scope["query_string"].decode()
            self.by_route[key] = ROUTER_MARK in scope


@pytest.fixture
def seen(settings: Settings, keys: KeyStore) -> Iterator[tuple[TestClient, RouterSeen]]:
    _, secret = keys.create("root", ADMIN)
    recorder = RouterSeen(create_app(settings))
    with TestClient(recorder, headers=bearer(secret)) as client:
        yield client, recorder


def test_a_plain_poll_skips_the_router_and_answers_as_the_route(
    seen: tuple[TestClient, RouterSeen], keys: KeyStore, tmp_path: Path
) -> None:
    client, recorder = seen
    alice = bearer(keys.create("alice", USER)[1])
    bob = bearer(keys.create("bob", USER)[1])
    job_id = create_job(
        client, alice, upload(client, alice, write_reviews(tmp_path / "r.jsonl", 20))
    )
    for prefix in ("/v1/fine_tunes", "/v1/fine_tuning/jobs"):
        path = f"{prefix}/{job_id}/metrics"
        for query in ("", "max_points=50"):
            fast = client.get(f"{path}?{query}", headers=alice)
            assert recorder.by_route[f"{path}?{query}"] is False
            # an unknown parameter, which the route ignores, sends the same poll to the route
            routed_query = f"{query}&via=route" if query else "via=route"
            routed = client.get(f"{path}?{routed_query}", headers=alice)
            assert recorder.by_route[f"{path}?{routed_query}"] is True
            assert (fast.status_code, fast.headers["content-type"]) == (
                routed.status_code,
                routed.headers["content-type"],
            )
            assert fast.json() == routed.json()
            assert fast.json()["job"]["id"] == job_id
    # another user's job and an unknown one: the route's 404, from the fast path
    for headers, path in ((bob, job_id), (alice, "ftjob-nothere")):
        fast = client.get(f"/v1/fine_tunes/{path}/metrics", headers=headers)
        routed = client.get(f"/v1/fine_tunes/{path}/metrics?via=route", headers=headers)
        assert recorder.by_route[f"/v1/fine_tunes/{path}/metrics?"] is False
        assert (fast.status_code, fast.json()) == (routed.status_code, routed.json())
        assert fast.json()["error"]["code"] == "job_not_found"


@pytest.mark.parametrize(
    "query",
    [
        "max_points=1",
        "max_points=10001",
        "max_points=abc",
        "max_points=",
        "max_points=50&max_points=2",
    ],
)
def test_a_refused_query_is_left_to_the_route(
    seen: tuple[TestClient, RouterSeen], query: str
) -> None:
    client, recorder = seen
    reply = client.get(f"/v1/fine_tunes/ftjob-x/metrics?{query}")
    assert recorder.by_route[f"/v1/fine_tunes/ftjob-x/metrics?{query}"] is True
    if query.startswith("max_points=50&"):
        return  # the route reads the last value: a valid poll of an unknown job
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "max_points"


def _scope(path: str, query: bytes = b"", method: str = "GET") -> Scope:
    return {"type": "http", "method": method, "path": path, "query_string": query}


def test_which_requests_the_fast_path_takes() -> None:
    assert plain_poll(_scope("/v1/fine_tunes/ftjob-1/metrics")) == ("ftjob-1", 500)
    assert plain_poll(_scope("/v1/fine_tuning/jobs/ftjob-1/metrics", b"max_points=2")) == (
        "ftjob-1",
        2,
    )
    assert plain_poll(_scope("/v1/fine_tunes/ftjob-1/metrics", b"max_points=10000")) == (
        "ftjob-1",
        10000,
    )
    left = [
        _scope("/v1/fine_tunes/ftjob-1/metrics", method="HEAD"),
        _scope("/v1/fine_tunes/ftjob-1/metrics", method="POST"),
        _scope("/v1/fine_tunes/ftjob-1/metrics/"),
        _scope("/v1/fine_tunes//metrics"),
        _scope("/v1/fine_tunes/a/b/metrics"),
        _scope("/v1/fine_tunes/" + "x" * 65 + "/metrics"),
        _scope("/v1/fine_tunes/bad\x00id/metrics"),
        _scope("/v1/fine_tunes/bad\nid/metrics"),
        _scope("/v1/files/file-1/metrics"),
        _scope("/v1/fine_tunes/ftjob-1/metrics", b"max_points=1"),
        _scope("/v1/fine_tunes/ftjob-1/metrics", b"max_points=10001"),
        _scope("/v1/fine_tunes/ftjob-1/metrics", b"max_points=050&x=1"),
        _scope("/v1/fine_tunes/ftjob-1/metrics", b"limit=5"),
    ]
    for scope in left:
        assert plain_poll(scope) is None, scope
    assert plain_poll(_scope("/v1/fine_tunes/" + "x" * 64 + "/metrics")) == ("x" * 64, 500)
