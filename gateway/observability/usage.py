"""Token counts from the engine's reply bytes, without parsing the whole JSON.

The OpenAI ``usage`` object is the last key vLLM writes, in the body of a non-streaming
reply and in the last data event of a stream that asked for ``include_usage``; searching
the tail of the bytes for it is enough.
"""

from __future__ import annotations

import re

USAGE_KEY = b'"usage":'
PROMPT = re.compile(rb'"prompt_tokens":\s*(\d+)')
COMPLETION = re.compile(rb'"completion_tokens":\s*(\d+)')


def find_usage(data: bytes) -> tuple[int, int] | None:
    """(prompt tokens, completion tokens) of the last ``usage`` object in ``data``."""
    start = data.rfind(USAGE_KEY)
    if start < 0:
        return None
    prompt = PROMPT.search(data, start)
    completion = COMPLETION.search(data, start)
    if prompt is None or completion is None:
        return None
    return int(prompt.group(1)), int(completion.group(1))
