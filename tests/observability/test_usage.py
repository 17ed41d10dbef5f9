"""Token usage found in reply bytes: non-streaming bodies and the tail of streams."""

from __future__ import annotations

from gateway.observability.usage import find_usage

BODY = (
    b'{"id":"chatcmpl-1","choices":[{"message":{"content":"usage: \\"prompt_tokens\\":99"}}],'
    b'"usage":{"prompt_tokens":9,"total_tokens":13,"completion_tokens":4,'
    b'"prompt_tokens_details":null}}'
)
STREAM_TAIL = (
    b'data: {"choices":[{"delta":{"content":"ef"},"finish_reason":"length"}]}\n\n'
    b'data: {"choices":[],"usage":{"prompt_tokens":12,"total_tokens":19,'
    b'"completion_tokens":7}}\n\ndata: [DONE]\n\n'
)


def test_non_streaming_body() -> None:
    assert find_usage(BODY) == (9, 4)


def test_last_usage_of_a_stream_wins_over_null_ones() -> None:
    early = b'data: {"choices":[{"delta":{}}],"usage":null}\n\n'
    assert find_usage(early + STREAM_TAIL) == (12, 7)


def test_no_usage() -> None:
    assert find_usage(b'data: {"choices":[]}\n\ndata: [DONE]\n\n') is None
    assert find_usage(b'data: {"usage":null}\n\n') is None
    assert find_usage(b"") is None
