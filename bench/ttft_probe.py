"""A time-to-first-token probe beside vLLM's benchmark client: the issue's own comparison.

The issue that asked for ``bench/ttft_under_up.py`` measured the gateway's starvation "with
vLLM's own benchmark client and a TTFT probe (C=16, streaming)": the client keeps the stack
busy, and a probe sends one streamed chat at a time and times its first token. Here the
client (``vllm_load.py``, a child process so that it cannot hold this one's GIL) keeps
``concurrency - 1`` streams going through the gateway, and the probe is the 16th: it
alternates one request through the gateway with one straight to the engine, so both see the
same load at the same moments and each pair's difference is what the gateway adds.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
from engine_stack import REPO_ROOT, EngineStack
from procs import ServerProcess

BODY = {
    "model": "loragate-tiny",
    "messages": [{"role": "user", "content": "外卖送得很快，味道也不错"}],
    "max_tokens": 32,
    "stream": True,
    "ignore_eos": True,
}
TARGETS = ("gateway", "direct")
LOAD_PROMPTS = 100_000
"""More than any probe window takes: the load is stopped when the probe is done."""
LOADED_TIMEOUT_S = 180.0
PAUSE_S = 0.05
"""At most this (uniformly random) between two probes, so they do not lock onto the
engine's step rhythm."""


async def first_token_s(session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> float:
    """Seconds from sending one streamed chat to its first ``data:`` line with content; the
    rest of the stream is read too, so its full cost counts."""
    started = time.perf_counter()
    async with session.post(url, json=BODY, headers=headers) as resp:
        resp.raise_for_status()
        async for line in resp.content:
            if line.startswith(b"data: {") and b'"content"' in line:
                elapsed = time.perf_counter() - started
                async for _ in resp.content:
                    pass
                return elapsed
    raise RuntimeError(f"{url}: the stream had no content")


def running_at_engine(metrics_url: str) -> float:
    """vLLM's ``vllm:num_requests_running`` now."""
    with urllib.request.urlopen(metrics_url, timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("vllm:num_requests_running"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def start_load(stack: EngineStack, streams: int, log: Path) -> ServerProcess:
    """vLLM's benchmark client in a child process, ``streams`` at a time through the gateway."""
    env = dict(os.environ, OPENAI_API_KEY=stack.admin_key)
    # fmt: off
    cmd = [
        sys.executable, str(REPO_ROOT / "bench" / "vllm_load.py"), "--base-url", stack.base_url,
        "--model", "loragate-tiny", "--tokenizer", str(stack.base_model_dir),
        "--prompts", str(LOAD_PROMPTS), "--concurrency", str(streams),
    ]
    # fmt: on
    return ServerProcess("vLLM's benchmark client", cmd, env, log, REPO_ROOT)


def wait_loaded(load: ServerProcess, metrics_url: str, streams: int) -> None:
    """Until the engine runs at least half of the load's streams (the client takes a few
    seconds to start)."""
    deadline = time.monotonic() + LOADED_TIMEOUT_S
    while running_at_engine(metrics_url) < max(1, streams // 2):
        if load.popen.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(load.failure("never loaded the engine"))
        time.sleep(0.2)


def chat_targets(stack: EngineStack) -> dict[str, tuple[str, dict[str, str]]]:
    """{target: (chat completions URL, headers)} for the gateway and the engine itself."""
    return {
        "gateway": (f"{stack.base_url}/v1/chat/completions", stack.headers),
        "direct": (f"http://127.0.0.1:{stack.engine_port}/v1/chat/completions", {}),
    }


async def round_of(url: str, headers: dict[str, str], concurrency: int) -> list[float]:
    """``concurrency`` streamed chats sent at once: their TTFTs in seconds."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as session:
        return list(
            await asyncio.gather(
                *(first_token_s(session, url, headers) for _ in range(concurrency))
            )
        )


def warm_up(url: str, headers: dict[str, str], concurrency: int, timeout_s: float = 60) -> None:
    """One burst that succeeds: a gateway's workers can each take a moment to see the engine."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            asyncio.run(round_of(url, headers, concurrency))
            return
        except aiohttp.ClientResponseError as exc:
            if exc.status != 503 or time.monotonic() > deadline:
                raise
            print(f"warm-up: {exc.status} {exc.message}; again", file=sys.stderr, flush=True)
            time.sleep(1)


async def probe(
    targets: dict[str, tuple[str, dict[str, str]]], seconds: float, gateway_first: bool
) -> dict[str, list[float]]:
    """Pairs of probes (gateway, direct; which goes first alternates) for ``seconds``:
    {target: TTFTs in seconds}, index i of each list from the same pair."""
    seen: dict[str, list[float]] = {target: [] for target in TARGETS}
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        deadline = time.monotonic() + seconds
        pair = 0
        while time.monotonic() < deadline:
            order = TARGETS if (pair % 2 == 0) == gateway_first else TARGETS[::-1]
            for target in order:
                url, headers = targets[target]
                seen[target].append(await first_token_s(session, url, headers))
                await asyncio.sleep(random.uniform(0, PAUSE_S))
            pair += 1
    return seen


def probe_under_load(
    stack: EngineStack, concurrency: int, seconds: float, gateway_first: bool
) -> dict[str, list[float]]:
    """The probe beside ``concurrency - 1`` streams of vLLM's client through the gateway:
    {"probe gateway": TTFTs, "probe direct": TTFTs, "probe paired": gateway - direct of each
    pair}, in seconds."""
    streams = concurrency - 1
    targets = chat_targets(stack)
    for url, headers in targets.values():
        warm_up(url, headers, 1)
    load = start_load(stack, streams, stack.data_dir / "probe-load.log")
    try:
        wait_loaded(load, f"http://127.0.0.1:{stack.engine_port}/metrics", streams)
        seen = asyncio.run(probe(targets, seconds, gateway_first))
        if load.popen.poll() is not None:  # the load must have lasted the whole probe
            raise RuntimeError(load.failure("stopped before the probe was done"))
    finally:
        load.stop()
    gateway, direct = seen["gateway"], seen["direct"]
    paired = [g - d for g, d in zip(gateway, direct, strict=True)]
    return {"probe gateway": gateway, "probe direct": direct, "probe paired": paired}
