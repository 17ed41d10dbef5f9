"""An instant OpenAI-compatible teacher for the synth benchmark: every chat request gets a
new, unique, valid example at once (raw asyncio + httptools). Listens on 127.0.0.1 only.

    python bench/synth_teacher.py --port 9002
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import string

import httptools
import orjson

MODELS = orjson.dumps({"object": "list", "data": [{"id": "instant", "object": "model"}]})


def _words(rng: random.Random, count: int) -> str:
    return " ".join("".join(rng.choices(string.ascii_lowercase, k=6)) for _ in range(count))


class Teacher(asyncio.Protocol):
    counter = itertools.count()

    def __init__(self) -> None:
        self.rng = random.Random()
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        body = MODELS if self.url.endswith(b"/models") else self._completion()
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
        assert self.transport is not None
        self.transport.write(head % len(body) + body)

    def _completion(self) -> bytes:
        number = next(self.counter)
        example = {
            "messages": [
                {"role": "user", "content": f"Question {number}: {_words(self.rng, 12)}?"},
                {"role": "assistant", "content": _words(self.rng, 30) + "."},
            ]
        }
        text = "```json\n" + orjson.dumps(example).decode() + "\n```"
        choice = {"index": 0, "message": {"role": "assistant", "content": text},
                  "finish_reason": "stop"}  # fmt: skip
        return orjson.dumps({"object": "chat.completion", "choices": [choice]})


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Teacher, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
