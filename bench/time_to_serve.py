"""Time to serve: from a fine-tune job's `succeeded` to the first token of the first request
that names its adapter, through the gateway with the real engine (no restart in between).

    python bench/time_to_serve.py [--jobs 3]

Each job trains on 300 generated reviews; the job is polled every 20 ms, and the moment it
reads `succeeded` a streaming chat request names the new adapter. Target: under 500 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_stack import EngineStack
from openai import OpenAI
from procs import log_tail

from trainer.datasets import write_jsonl
from trainer.datasets.reviews import make_review_examples

TARGET_MS = 500.0


def wait_succeeded(client: OpenAI, job_id: str, timeout_s: float = 900) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status == "succeeded" and job.fine_tuned_model:
            return job.fine_tuned_model
        if job.status in ("failed", "cancelled"):
            raise RuntimeError(f"job {job_id} {job.status}: {job.error}")
        time.sleep(0.02)
    raise TimeoutError(f"job {job_id} did not finish in {timeout_s} s")


def first_token_ms(client: OpenAI, model: str, started: float) -> float:
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "味道很好，送餐很快"}],
        max_tokens=4, temperature=0, stream=True,
    )  # fmt: skip
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            elapsed = (time.perf_counter() - started) * 1000
            stream.close()
            return elapsed
    raise RuntimeError("the stream ended without a token")


def one_job(client: OpenAI, data: Path, index: int) -> float:
    with data.open("rb") as handle:
        file = client.files.create(file=handle, purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model="loragate-tiny", training_file=file.id, suffix=f"tts{index}",
        hyperparameters={"n_epochs": 1},
    )  # fmt: skip
    name = wait_succeeded(client, job.id)
    started = time.perf_counter()
    return first_token_ms(client, name, started)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="time-to-serve-") as tmp:
        stack = EngineStack(Path(tmp) / "data")
        try:
            stack.wait_ready()
            client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
            data = Path(tmp) / "reviews.jsonl"
            write_jsonl(make_review_examples(300, seed=0), data)
            times = [one_job(client, data, i) for i in range(args.jobs)]
        except Exception:
            print(log_tail(stack.data_dir / "logs" / "worker.log"))
            raise
        finally:
            stack.stop()
    for index, ms in enumerate(times):
        print(f"job {index}: succeeded -> first token {ms:.0f} ms")
    worst = max(times)
    print(f"median {statistics.median(times):.0f} ms, worst {worst:.0f} ms")
    ok = worst < TARGET_MS
    print(
        f"{'PASS' if ok else 'FAIL'}  worst time to serve {worst:.0f} ms (want < {TARGET_MS:.0f})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
