"""N plain HTTP clients polling a job's page data the way the console's job page does
(``GET /v1/fine_tunes/{id}/metrics?max_points=500`` once a second each), until stopped.

    python bench/console_pollers.py --url http://127.0.0.1:8000 --key lg-... --job ftjob-...
        [--clients 50] [--interval 1.0] [--seconds 600]

Prints one JSON line at the end: polls done, errors, p50 and p99 latency of the polls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import statistics
import time

import httpx


async def poller(
    client: httpx.AsyncClient, path: str, interval_s: float, stop: asyncio.Event, out: list[float]
) -> int:
    errors = 0
    await asyncio.sleep(random.uniform(0, interval_s))  # spread like viewers who came apart
    while not stop.is_set():
        started = time.perf_counter()
        try:
            reply = await client.get(path)
            if reply.status_code == 200:
                out.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
    return errors


async def main(args: argparse.Namespace) -> dict[str, float | int]:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.call_later(args.seconds, stop.set)
    path = f"/v1/fine_tunes/{args.job}/metrics?max_points=500"
    headers = {"Authorization": f"Bearer {args.key}"}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=30) as client:
        errors = await asyncio.gather(
            *(poller(client, path, args.interval, stop, latencies) for _ in range(args.clients))
        )
    ordered = sorted(latencies) or [0.0]
    return {
        "clients": args.clients,
        "polls": len(latencies),
        "errors": sum(errors),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=600.0)
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)
