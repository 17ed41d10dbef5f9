"""``GET /v1/fine_tunes/{id}/metrics`` (and ``/v1/fine_tuning/jobs/{id}/metrics``) served
straight from ASGI when the request is plain.

Every open job page polls this once a second, and its body is rendered once per feed read
for all of them, so much of what a poll costs is FastAPI's path to the endpoint (route
matching over every route, dependency solving, the exit stack), on the process that also
relays every token: skipping it took a poll from 0.9-1.1 ms of the gateway's CPU to 0.5-0.6
ms (``bench/console_load.py --poll-cpu-only``).

Only a request the route would answer with the job (a job id of at most
``NAME_MAX_CHARS`` characters without control characters, and no query string or exactly
``max_points=<n>`` within the route's bounds) is served here; any other request, including
every one the route would refuse, goes on to the router, so errors are the route's own. The
route stays declared in :mod:`gateway.finetune.routes` for the OpenAPI document and calls
the same :meth:`JobServing.metrics`.
"""

from __future__ import annotations

import re

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.fields import NAME_MAX_CHARS
from gateway.auth.caller import caller_of
from gateway.errors import APIError, error_response
from gateway.finetune.jobs import JobServing

PREFIXES = ("/v1/fine_tunes/", "/v1/fine_tuning/jobs/")
SUFFIX = "/metrics"
DEFAULT_POINTS = 500
MIN_POINTS, MAX_POINTS = 2, 10_000
"""The route's bounds on ``max_points``."""

_PLAIN_ID = re.compile(rf"[^/\x00-\x1f\x7f]{{1,{NAME_MAX_CHARS}}}")
_QUERY = re.compile(rb"max_points=([0-9]{1,5})")


class JobMetricsEndpoint:
    """Pure-ASGI fast path for a job page's poll."""

    def __init__(self, app: ASGIApp, jobs: JobServing) -> None:
        self.app = app
        self.jobs = jobs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = plain_poll(scope) if scope["type"] == "http" else None
        if plain is None:
            await self.app(scope, receive, send)
            return
        job_id, max_points = plain
        caller = caller_of(scope.get("state", {}))
        try:
            response = Response(
                await self.jobs.metrics(job_id, max_points, caller), media_type="application/json"
            )
        except APIError as exc:
            response = error_response(exc)
        await response(scope, receive, send)


def plain_poll(scope: Scope) -> tuple[str, int] | None:
    """(job id, max_points) of a GET this path serves; None for the router to handle."""
    if scope["method"] != "GET":
        return None
    path: str = scope["path"]
    if not path.endswith(SUFFIX):
        return None
    for prefix in PREFIXES:
        if path.startswith(prefix):
            job_id = path[len(prefix) : -len(SUFFIX)]
            break
    else:
        return None
    if _PLAIN_ID.fullmatch(job_id) is None:
        return None
    query: bytes = scope["query_string"]
    if not query:
        return job_id, DEFAULT_POINTS
    match = _QUERY.fullmatch(query)
    if match is None:
        return None
    points = int(match.group(1))
    return (job_id, points) if MIN_POINTS <= points <= MAX_POINTS else None
