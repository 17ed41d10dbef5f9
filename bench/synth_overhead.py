"""Synth overhead: how many teacher calls per second ``synthesize`` handles when the teacher
answers instantly (so the tool is all that is measured): prompt building, the HTTP call,
lenient parsing, checks, exact and near-duplicate search, and the output file.

    python bench/synth_overhead.py [--n 4000] [--concurrency 32] [--json out.json]

Exit status 0 when calls/s is at least --target (200), 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(BENCH_DIR))

from procs import ServerProcess, free_port, http_status  # noqa: E402

from trainer.datasets.synth import SynthJob, Teacher, synthesize  # noqa: E402

SEEDS = [
    {"messages": [{"role": "user", "content": f"Seed question {i}?"},
                  {"role": "assistant", "content": f"Seed answer number {i}."}]}
    for i in range(5)
]  # fmt: skip


def wait_ready(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if http_status(port, "/v1/models") == 200:
            return
        time.sleep(0.05)
    raise RuntimeError("the instant teacher did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--target", type=float, default=200.0)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        port = free_port()
        teacher_cmd = [sys.executable, str(BENCH_DIR / "synth_teacher.py"), "--port", str(port)]
        env = dict(os.environ)
        server = ServerProcess("teacher", teacher_cmd, env, root / "teacher.log", REPO_ROOT)
        try:
            wait_ready(port)
            seeds = root / "seeds.jsonl"
            seeds.write_text("\n".join(json.dumps(seed) for seed in SEEDS) + "\n")
            job = SynthJob(
                task="Answer questions.", seeds=seeds, n=options.n, out=root / "out.jsonl",
                teacher=Teacher(url=f"http://127.0.0.1:{port}/v1", model="instant"),
                concurrency=options.concurrency,
            )  # fmt: skip
            start = time.perf_counter()
            tally = asyncio.run(synthesize(job))
            elapsed = time.perf_counter() - start
        finally:
            server.stop()
    rate = tally.calls.calls / elapsed
    result = {
        "n": options.n,
        "concurrency": options.concurrency,
        "calls": tally.calls.calls,
        "accepted": tally.accepted,
        "rejected": dict(tally.rejected),
        "seconds": round(elapsed, 2),
        "calls_per_s": round(rate, 1),
        "target_calls_per_s": options.target,
    }
    print(json.dumps(result, indent=2))
    if options.json:
        options.json.write_text(json.dumps(result, indent=2))
    return 0 if rate >= options.target else 1


if __name__ == "__main__":
    sys.exit(main())
