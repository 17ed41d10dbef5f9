"""What one engine costs on this machine, as the fleet simulation (bench/fleet_sim.py) needs it.

    flock /tmp/loragate-engine.lock python bench/engine_profile.py [--rounds 3]

Starts a real `loragate up` (vLLM on the CPU, the default tiny model, max_loras 8), talks to
the engine directly and measures:

- decode step time in a batch of ``--batch`` streams with k = 1..8 distinct adapters (and
  the base model), from the gaps between streamed tokens; the same with one stream;
- prefill time of one request of about ``--prompt-words`` words (time to first token);
- adapter load time (``POST /v1/load_lora_adapter``), and the extra first-token time of the
  first request an adapter serves;
- LoRA slot swap time: first-token time of one-at-a-time requests cycling over more adapters
  than ``max_loras`` (each finds its adapter out of the slots but in the engine's CPU cache,
  ``--max-cpu-loras`` 32) minus the same cycling over adapters that fit.

Writes bench/results/engine_profile.json. With ``--metrics-fixture PATH`` it also saves the
engine's /metrics page, taken while adapter requests run (the engine-metrics parser's test
fixture). The machine's speed drifts, so the scenarios run in interleaved rounds and each
number is the median over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_stack import EngineStack
from procs import log_tail

from tests.lora_fixtures import publish_random_adapter

BASE = "loragate-tiny"
RESULTS = Path(__file__).resolve().parent / "results" / "engine_profile.json"
MAX_LORAS = 8
CPU_LORAS = 32


async def stream_times(
    session: aiohttp.ClientSession, url: str, model: str, prompt: str, max_tokens: int
) -> tuple[float, list[float]]:
    """(request start, arrival time of each streamed token) of one completion."""
    body = {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "ignore_eos": True,
        "temperature": 0,
        "stream": True,
    }
    started = time.perf_counter()
    stamps: list[float] = []
    async with session.post(f"{url}/v1/completions", json=body) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{model}: {resp.status} {await resp.text()}")
        async for line in resp.content:
            if line.startswith(b"data: {"):
                stamps.append(time.perf_counter())
    return started, stamps


async def decode_step_ms(
    session: aiohttp.ClientSession, url: str, models: list[str], batch: int, tokens: int
) -> float:
    """Median gap between tokens over ``batch`` concurrent streams cycling over ``models``."""
    runs = await asyncio.gather(
        *(stream_times(session, url, models[i % len(models)], "Hi", tokens) for i in range(batch))
    )
    # The middle half of each stream: all streams are decoding together there.
    gaps = []
    for _, stamps in runs:
        quarter = len(stamps) // 4
        middle = stamps[quarter : len(stamps) - quarter]
        gaps.append((middle[-1] - middle[0]) / (len(middle) - 1))
    return statistics.median(gaps) * 1000


async def first_token_ms(
    session: aiohttp.ClientSession, url: str, model: str, prompt: str
) -> float:
    started, stamps = await stream_times(session, url, model, prompt, 2)
    return (stamps[0] - started) * 1000


async def load_ms(session: aiohttp.ClientSession, url: str, name: str, path: str) -> float:
    started = time.perf_counter()
    async with session.post(
        f"{url}/v1/load_lora_adapter", json={"lora_name": name, "lora_path": path}
    ) as resp:
        if resp.status != 200:
            raise RuntimeError(f"load {name}: {resp.status} {await resp.text()}")
    return (time.perf_counter() - started) * 1000


async def save_metrics_page(
    session: aiohttp.ClientSession, url: str, adapters: list[str], out: Path
) -> None:
    """The /metrics page while streams of several adapters are in flight."""
    work = asyncio.gather(*(stream_times(session, url, a, "Hi", 48) for a in adapters))
    await asyncio.sleep(0.5)
    async with session.get(f"{url}/metrics") as resp:
        page = await resp.text()
    await work
    await asyncio.to_thread(out.write_text, page)
    print(f"saved {len(page)} bytes of /metrics to {out}")


async def measure(args: argparse.Namespace, stack: EngineStack, work: Path) -> dict[str, Any]:
    url = f"http://127.0.0.1:{stack.engine_port}"
    records = [
        publish_random_adapter(
            stack.base_model_dir, stack.data_dir / "adapters", work, f"prof{i}", seed=i
        )
        for i in range(MAX_LORAS + 2)
    ]
    names = [r.name for r in records]
    prompt = " ".join(["review"] * args.prompt_words)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        loads = [await load_ms(session, url, r.name, r.artifact_dir) for r in records]
        cold_first = [await first_token_ms(session, url, n, "Hi") for n in names[MAX_LORAS:]]
        for models in ([BASE], names[:1], names[:MAX_LORAS]):  # warm-up of each batch shape
            await decode_step_ms(session, url, models, args.batch, 16)
        warm_first = [await first_token_ms(session, url, n, "Hi") for n in names[MAX_LORAS:]]
        swap = await slot_swap_ms(session, url, names, args.rounds)
        if args.metrics_fixture:
            await save_metrics_page(session, url, names[:4], args.metrics_fixture)
        rounds: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            scenarios: dict[str, Any] = {"base": [BASE]}
            scenarios.update({str(k): names[:k] for k in range(1, MAX_LORAS + 1)})
            for key, models in scenarios.items():
                step = await decode_step_ms(session, url, models, args.batch, args.tokens)
                rounds.setdefault(f"batch_{key}", []).append(step)
            single = await decode_step_ms(session, url, names[:1], 1, args.tokens)
            rounds.setdefault("single_1", []).append(single)
            rounds.setdefault("prefill", []).append(
                await first_token_ms(session, url, names[0], prompt)
            )
            rounds.setdefault("short", []).append(
                await first_token_ms(session, url, names[0], "Hi")
            )
            prompt_tokens = await count_prompt_tokens(session, url, prompt)
    med = {key: round(statistics.median(values), 3) for key, values in rounds.items()}
    return {
        "profile": "cpu",
        "source": "bench/engine_profile.py on this machine (vLLM CPU, default tiny model)",
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "max_loras": MAX_LORAS,
        "batch": args.batch,
        "decode_step_ms_base": med["batch_base"],
        "decode_step_ms_by_adapters": [med[f"batch_{k}"] for k in range(1, MAX_LORAS + 1)],
        "decode_step_ms_single": med["single_1"],
        "prompt_tokens": prompt_tokens,
        "prefill_ms": med["prefill"],
        "short_request_first_token_ms": med["short"],
        "adapter_load_ms": round(statistics.median(loads), 3),
        "adapter_first_use_extra_ms": round(
            statistics.median(cold_first) - statistics.median(warm_first), 3
        ),
        "slot_swap_ms": round(swap, 3),
        "cpu_loras": CPU_LORAS,
        "rounds": args.rounds,
    }


async def slot_swap_ms(
    session: aiohttp.ClientSession, url: str, names: list[str], rounds: int
) -> float:
    """Extra first-token time when the adapter must be swapped into a LoRA slot."""
    fits, swaps = [], []
    for _ in range(rounds):
        for name in names[:4] * 3:
            fits.append(await first_token_ms(session, url, name, "Hi"))
        for name in names[: MAX_LORAS + 2] * 3:
            swaps.append(await first_token_ms(session, url, name, "Hi"))
    return statistics.median(swaps) - statistics.median(fits)


async def count_prompt_tokens(session: aiohttp.ClientSession, url: str, prompt: str) -> int:
    body = {"model": BASE, "prompt": prompt, "max_tokens": 1}
    async with session.post(f"{url}/v1/completions", json=body) as resp:
        return int((await resp.json())["usage"]["prompt_tokens"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8, help="Concurrent streams in a batch.")
    parser.add_argument("--tokens", type=int, default=48, help="Tokens per decode stream.")
    parser.add_argument("--prompt-words", type=int, default=200)
    parser.add_argument("--metrics-fixture", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engine-profile-") as tmp:
        env = {
            "LORAGATE_ENGINE__MAX_LORAS": str(MAX_LORAS),
            "LORAGATE_ENGINE__EXTRA_ARGS": json.dumps(["--max-cpu-loras", str(CPU_LORAS)]),
        }
        stack = EngineStack(Path(tmp) / "data", env)
        try:
            stack.wait_ready()
            print(f"front ends pinned to cores {stack.pin_front_ends()}")
            profile = asyncio.run(measure(args, stack, Path(tmp) / "work"))
        except Exception:
            for name in ("gateway", "engine"):
                print(f"--- {name} log ---\n{log_tail(stack.data_dir / 'logs' / f'{name}.log')}")
            raise
        finally:
            stack.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(profile, indent=2) + "\n")
    print(json.dumps(profile, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
