"""An OpenAI-compatible teacher: chat completions with backoff on 429 and 5xx that honours
``Retry-After``, and a check before any call that the teacher is there and takes the key."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

RETRYABLE = frozenset({429, 500, 502, 503, 504})
Sleep = Callable[[float], Awaitable[None]]


class TeacherError(Exception):
    """The teacher cannot be used at all (unreachable, key refused, no such model)."""


class CallFailed(Exception):
    """One call got no answer (a non-retryable refusal, or retries exhausted)."""


class OutOfCalls(Exception):
    """The cap on calls is reached."""


@dataclass(frozen=True)
class Teacher:
    url: str
    """Base URL of the OpenAI-compatible API, ending in ``/v1``."""
    model: str
    api_key: str | None = None
    temperature: float = 0.9
    max_tokens: int = 512
    timeout_s: float = 120.0
    json_mode: bool = False
    """Also ask for ``response_format: json_object`` (not every server has it)."""


@dataclass
class CallCounts:
    """Requests sent (``calls``, retries included), retried statuses, calls given up."""

    cap: int
    calls: int = 0
    retried: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)

    def take(self) -> None:
        if self.calls >= self.cap:
            raise OutOfCalls
        self.calls += 1


class TeacherClient:
    def __init__(
        self,
        teacher: Teacher,
        counts: CallCounts,
        max_retries: int = 6,
        backoff_s: float = 0.5,
        max_delay_s: float = 60.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.teacher = teacher
        self.counts = counts
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_delay_s = max_delay_s
        self.sleep = sleep
        self.base = teacher.url.rstrip("/")
        self.headers = {"content-type": "application/json"}
        if teacher.api_key:
            self.headers["authorization"] = f"Bearer {teacher.api_key}"
        self._http: aiohttp.ClientSession | None = None

    @property
    def http(self) -> aiohttp.ClientSession:
        """aiohttp, not httpx: httpx's pool cost about 10 ms of CPU per call at 32 in flight."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                headers=self.headers,
                timeout=aiohttp.ClientTimeout(total=self.teacher.timeout_s),
                connector=aiohttp.TCPConnector(limit=0),
            )
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def check(self) -> None:
        """Fail with a clear ``TeacherError`` unless the teacher answers and takes the key."""
        try:
            async with self.http.get(f"{self.base}/models") as response:
                status, data = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TeacherError(f"cannot reach the teacher at {self.teacher.url}: {exc!r}") from exc
        if status in (401, 403):
            raise TeacherError(
                f"the teacher at {self.teacher.url} refused the key ({status}): "
                "set LORAGATE_TEACHER_API_KEY"
            )
        if status == 200:
            models = [item.get("id") for item in _json(data).get("data", [])]
            if models and self.teacher.model not in models:
                raise TeacherError(
                    f"the teacher has no model {self.teacher.model!r}; it has {models[:10]}"
                )

    async def complete(self, messages: list[dict[str, str]]) -> tuple[str, str | None]:
        """The answer's text and finish reason; retried on 429/5xx and network errors."""
        body: dict[str, Any] = {
            "model": self.teacher.model,
            "messages": messages,
            "temperature": self.teacher.temperature,
            "max_tokens": self.teacher.max_tokens,
        }
        if self.teacher.json_mode:
            body["response_format"] = {"type": "json_object"}
        payload = orjson.dumps(body)
        for attempt in range(self.max_retries + 1):
            self.counts.take()
            try:
                async with self.http.post(f"{self.base}/chat/completions", data=payload) as r:
                    status, headers, data = r.status, r.headers, await r.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason, delay = type(exc).__name__, None
            else:
                if status == 200:
                    return _answer(data)
                if status in (401, 403):
                    raise TeacherError(f"the teacher refused the key ({status})")
                if status not in RETRYABLE:
                    self.counts.failed[f"http_{status}"] += 1
                    raise CallFailed(f"HTTP {status}: {data[:200]!r}")
                reason, delay = f"http_{status}", retry_after(headers)
            if attempt == self.max_retries:
                self.counts.failed[reason] += 1
                raise CallFailed(f"{reason} after {attempt + 1} tries")
            self.counts.retried[reason] += 1
            await self.sleep(min(self.max_delay_s, delay or self.backoff_s * 2**attempt))
        raise AssertionError("unreachable")


def _json(data: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _answer(data: bytes) -> tuple[str, str | None]:
    try:
        choice = _json(data)["choices"][0]
        return str(choice["message"]["content"] or ""), choice.get("finish_reason")
    except (KeyError, IndexError, TypeError):
        return "", None


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if any."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
