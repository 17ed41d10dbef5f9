"""A 100 MB upload to the running stack (``loragate up``), through the official client:
answered as soon as it is stored (``uploaded``), checked by a child process, then
``processed``; a job created meanwhile waits in ``validating_files`` and then runs; and
the gateway's serving process stays small and never loads the tokenizer stack.

The file is 100,000,000 bytes of 10,000 chat examples, each line padded with JSON
whitespace to 10,000 bytes: the gateway's cost is the bytes it receives, while the check
(in the child) stays a few seconds, which CI's budget allows."""

from __future__ import annotations

import json
import time
from pathlib import Path

from openai import OpenAI

from tests.helpers import Stack
from tests.trainer.jobs.helpers import wait_until
from trainer.datasets.reviews import make_review_examples

FILE_BYTES = 100_000_000
LINES = 10_000
RSS_LIMIT_MB = 150
HEAVY_LIBRARIES = ("libtorch", "tokenizers.", "_tokenizers", "rensa")


def write_padded(path: Path) -> Path:
    width = FILE_BYTES // LINES
    with path.open("w", encoding="utf-8") as out:
        for example in make_review_examples(LINES, seed=3):
            line = json.dumps({"messages": example.as_dicts()}, ensure_ascii=False)
            padding = width - 1 - len(line.encode())
            assert padding >= 0
            out.write(line[:-1] + " " * padding + "}\n")
    assert path.stat().st_size == FILE_BYTES
    return path


def serving_processes(stack: Stack) -> list[int]:
    """The gateway's process and its uvicorn workers, not the file checkers it started."""
    root = stack.pid_of("gateway")
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if comm != "loragate-check" and b"resource_tracker" not in cmdline:
            found.append(pid)
            todo += children(pid)
    return found


def children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    kids: list[int] = []
    for task in tasks.iterdir():
        text = (task / "children").read_text().split()
        kids += [int(k) for k in text]
    return kids


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def heavy_libraries(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name in HEAVY_LIBRARIES if name in maps}


def idle_worker(client: OpenAI) -> None:
    """Cancel what earlier tests left running, so the worker claims the next job at once."""
    for job in client.fine_tuning.jobs.list(limit=100).data:
        if job.status in ("queued", "validating_files", "running"):
            client.fine_tuning.jobs.cancel(job.id)


def test_a_100_mb_upload_answers_at_once_and_a_job_waits_for_its_check(
    stack: Stack, tmp_path: Path
) -> None:
    client = OpenAI(base_url=f"{stack.base_url}/v1", api_key=stack.admin_key, max_retries=0)
    idle_worker(client)
    path = write_padded(tmp_path / "large.jsonl")
    before = {pid: rss_mb(pid) for pid in serving_processes(stack)}
    started = time.monotonic()
    with path.open("rb") as data:
        file = client.files.create(file=data, purpose="fine-tune")
    answered_s = time.monotonic() - started
    assert file.status == "uploaded", file
    job = client.fine_tuning.jobs.create(
        model=stack.model, training_file=file.id, hyperparameters={"n_epochs": 1}
    )
    assert client.files.retrieve(file.id).status == "uploaded", "checked before the job came"

    def checked() -> str | None:
        status = client.files.retrieve(file.id).status
        return status if status != "uploaded" else None

    assert wait_until(checked, 300, "the file is checked") == "processed"
    stored = client.files.retrieve(file.id).model_dump()
    assert stored["examples"] == LINES
    assert stored["tokens"] > LINES

    def events() -> list[str]:
        page = client.fine_tuning.jobs.list_events(job.id, limit=100)
        return [event.message for event in reversed(page.data)]

    wait_until(lambda: "Fine-tuning started" in events(), 300, "the job trains")
    said = events()
    waited = f"Waiting for the training_file {file.id} to be checked (it is still uploaded)"
    assert waited in said, said
    assert said.index(waited) < said.index("Fine-tuning started")
    client.fine_tuning.jobs.cancel(job.id)
    after = {pid: rss_mb(pid) for pid in serving_processes(stack)}
    print(f"\nupload answered in {answered_s:.1f} s; gateway RSS MB before {before}, after {after}")
    for pid, mb in after.items():
        assert mb < RSS_LIMIT_MB, f"gateway process {pid}: {mb:.0f} MB after a 100 MB upload"
        assert not heavy_libraries(pid), f"gateway process {pid} loaded {heavy_libraries(pid)}"
    wait_until(
        lambda: client.fine_tuning.jobs.retrieve(job.id).status == "cancelled", 60, "cancelled"
    )
    client.files.delete(file.id)
