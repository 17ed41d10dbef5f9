"""A real OpenAI-compatible HTTP server on 127.0.0.1 whose answers a test scripts: each chat
request takes the next step of the script (an answer's text, or a status with headers)."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Step:
    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    delay_s: float = 0.0


def answer(text: str, finish_reason: str = "stop") -> Step:
    return Step(text=text, finish_reason=finish_reason)


def status(code: int, retry_after: str | None = None) -> Step:
    return Step(status=code, headers={"Retry-After": retry_after} if retry_after else {})


def example_json(user: str, assistant: str) -> str:
    turns = [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return json.dumps({"messages": turns}, ensure_ascii=False)


@dataclass
class Teacher:
    url: str
    model: str
    script: deque[Step]
    default: Step
    key: str | None
    requests: list[tuple[float, int, dict[str, Any]]] = field(default_factory=list)
    """(time, status answered, body) of each chat request, in arrival order."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_step(self) -> Step:
        with self.lock:
            return self.script.popleft() if self.script else self.default


def _handler(teacher: Teacher) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, code: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if teacher.key is None or self.headers.get("authorization") == f"Bearer {teacher.key}":
                return True
            self._send(401, {"error": {"message": "bad key", "code": "invalid_api_key"}}, {})
            return False

        def do_GET(self) -> None:
            if self._authorised():
                self._send(200, {"object": "list", "data": [{"id": teacher.model}]}, {})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if not self._authorised():
                return
            step = teacher.next_step()
            with teacher.lock:
                teacher.requests.append((time.monotonic(), step.status, body))
            if step.delay_s:
                time.sleep(step.delay_s)
            if step.status != 200:
                self._send(step.status, {"error": {"message": "scripted"}}, step.headers)
                return
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": step.text},
                "finish_reason": step.finish_reason,
            }
            self._send(200, {"object": "chat.completion", "choices": [choice]}, {})

    return Handler


@contextmanager
def scripted_teacher(
    steps: list[Step], default: Step | None = None, key: str | None = None, model: str = "t"
) -> Iterator[Teacher]:
    """Serve ``steps`` in order (then ``default``, prose, forever) on a free local port."""
    teacher = Teacher("", model, deque(steps), default or answer("I cannot help."), key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(teacher))
    server.daemon_threads = True
    teacher.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield teacher
    finally:
        server.shutdown()
        server.server_close()
