"""The stub engine's answers: canned completions (whole or as SSE frames), its model list
and its errors, as bytes ready to write. No I/O here; ``stub_upstream.py`` serves them."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import orjson

JsonDict = dict[str, Any]

MODELS_BODY = orjson.dumps(
    {
        "object": "list",
        "data": [
            {
                "id": "stub-model",
                "object": "model",
                "created": 0,
                "owned_by": "stub",
                "root": "stub-model",
                "parent": None,
                "max_model_len": 2048,
            }
        ],
    }
)
WORDS = ("Hello", "!", " How", " can", " I", " help", " you", " today", "?", " I", " am", " a")
ID_DIGITS = 24
ID_PLACEHOLDER = b"#" * ID_DIGITS
TEMPLATE_CACHE_MAX = 256
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n"
)
REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 405: b"Method Not Allowed"}
CHUNKED_END = b"0\r\n\r\n"


@dataclass(frozen=True)
class Completion:
    """What one request asked for, reduced to what the stub needs."""

    chat: bool
    model: str
    tokens: int
    prompt_tokens: int
    stream: bool
    include_usage: bool


@dataclass(frozen=True)
class Reply:
    """A whole (non-streamed) reply."""

    status: int
    body: bytes
    content_type: bytes = b"application/json"


_ids = itertools.count(1)
_templates: dict[tuple[bool, str, int, bool], list[bytes]] = {}


def sse_frame(payload: bytes) -> bytes:
    """One SSE event as one HTTP chunk."""
    event = b"data: " + payload + b"\n\n"
    return b"%x\r\n%b\r\n" % (len(event), event)


def token_text(i: int) -> str:
    return WORDS[i % len(WORDS)]


def object_name(chat: bool, stream: bool) -> str:
    if not chat:
        return "text_completion"
    return "chat.completion.chunk" if stream else "chat.completion"


def id_prefix(chat: bool) -> str:
    return "chatcmpl-" if chat else "cmpl-"


def usage(c: Completion) -> JsonDict:
    total = c.prompt_tokens + c.tokens
    return {"prompt_tokens": c.prompt_tokens, "total_tokens": total, "completion_tokens": c.tokens}


def stream_choice(c: Completion, i: int) -> JsonDict:
    last = i == c.tokens - 1
    choice: JsonDict = {"index": 0}
    if c.chat:
        delta: JsonDict = {"content": token_text(i)}
        if i == 0:
            delta = {"role": "assistant", **delta}
        choice["delta"] = delta
    else:
        choice["text"] = token_text(i)
    choice.update(logprobs=None, finish_reason="length" if last else None)
    choice["stop_reason"] = None
    return choice


def stream_templates(c: Completion) -> list[bytes]:
    """Framed token events with a placeholder id, built once per distinct request shape."""
    key = (c.chat, c.model, c.tokens, c.include_usage)
    frames = _templates.get(key)
    if frames is not None:
        return frames
    if len(_templates) >= TEMPLATE_CACHE_MAX:
        _templates.clear()
    head: JsonDict = {
        "id": id_prefix(c.chat) + ID_PLACEHOLDER.decode(),
        "object": object_name(c.chat, stream=True),
        "created": int(time.time()),
        "model": c.model,
    }
    frames = []
    for i in range(c.tokens):
        event: JsonDict = {**head, "choices": [stream_choice(c, i)]}
        if c.include_usage:
            event["usage"] = None
        frames.append(sse_frame(orjson.dumps(event)))
    _templates[key] = frames
    return frames


def usage_frame(c: Completion, rid: bytes) -> bytes:
    event = {
        "id": id_prefix(c.chat) + rid.decode(),
        "object": object_name(c.chat, stream=True),
        "created": int(time.time()),
        "model": c.model,
        "choices": [],
        "usage": usage(c),
    }
    return sse_frame(orjson.dumps(event))


def stream_frames(c: Completion) -> list[bytes]:
    """Every chunk of the streamed reply body, in order, ending with the chunked terminator."""
    rid = b"%0*x" % (ID_DIGITS, next(_ids))
    frames = [frame.replace(ID_PLACEHOLDER, rid) for frame in stream_templates(c)]
    if c.include_usage:
        frames.append(usage_frame(c, rid))
    frames.append(sse_frame(b"[DONE]"))
    frames.append(CHUNKED_END)
    return frames


def completion_body(c: Completion) -> bytes:
    text = "".join(token_text(i) for i in range(c.tokens))
    choice: JsonDict = {"index": 0}
    if c.chat:
        choice["message"] = {"role": "assistant", "content": text, "tool_calls": []}
    else:
        choice["text"] = text
    choice.update(logprobs=None, finish_reason="length", stop_reason=None)
    reply = {
        "id": f"{id_prefix(c.chat)}{next(_ids):0{ID_DIGITS}x}",
        "object": object_name(c.chat, stream=False),
        "created": int(time.time()),
        "model": c.model,
        "choices": [choice],
        "usage": usage(c),
    }
    return orjson.dumps(reply)


def parse_completion(chat: bool, body: bytes, max_chunks: int) -> Completion:
    """Reads the request body; raises ValueError when it is not a JSON object."""
    req = orjson.loads(body)
    if not isinstance(req, dict):
        raise ValueError("body must be a JSON object")
    options = req.get("stream_options")
    max_tokens = req.get("max_tokens") or req.get("max_completion_tokens")
    tokens = max_chunks
    if isinstance(max_tokens, int) and max_tokens > 0:
        tokens = min(max_chunks, max_tokens)
    return Completion(
        chat=chat,
        model=str(req.get("model") or "stub-model"),
        tokens=max(tokens, 1),
        prompt_tokens=max(1, len(body) // 8),
        stream=req.get("stream") is True,
        include_usage=isinstance(options, dict) and options.get("include_usage") is True,
    )


def response(status: int, body: bytes, content_type: bytes, keep_alive: bool) -> bytes:
    head = b"HTTP/1.1 %d %b\r\ncontent-type: %b\r\ncontent-length: %d\r\n" % (
        status,
        REASONS.get(status, b"Error"),
        content_type,
        len(body),
    )
    return head + (b"\r\n" if keep_alive else b"connection: close\r\n\r\n") + body


def stream_head(keep_alive: bool) -> bytes:
    return STREAM_HEAD + (b"\r\n" if keep_alive else b"connection: close\r\n\r\n")


def error_body(message: str, code: int) -> bytes:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return orjson.dumps({"object": "error", "error": error})
