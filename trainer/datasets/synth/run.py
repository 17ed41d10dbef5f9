"""``synthesize``: ask a teacher for examples until N are accepted or the calls run out."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from trainer.datasets.example import ChatExample
from trainer.datasets.loader import read_dataset
from trainer.datasets.quality.similarity import NearDuplicateIndex
from trainer.datasets.quality.text import full_key, plain_text
from trainer.datasets.synth.output import SynthError, existing_examples, write_example
from trainer.datasets.synth.parse import Rejected, parse_answer
from trainer.datasets.synth.prompt import teacher_messages
from trainer.datasets.synth.tally import Tally
from trainer.datasets.synth.teacher import (
    CallCounts,
    CallFailed,
    OutOfCalls,
    Teacher,
    TeacherClient,
)

MIN_SEEDS = 3


@dataclass(frozen=True)
class SynthJob:
    task: str
    seeds: Path
    n: int
    out: Path
    teacher: Teacher
    concurrency: int = 8
    max_calls: int | None = None
    """Requests allowed (retries included); default 3 x the examples still wanted."""
    max_chars: int = 8000
    seed: int = 0


class _Dedupe:
    """Exact and near (Jaccard >= 0.8 on character 5-grams) copies of anything seen."""

    def __init__(self, examples: list[ChatExample]) -> None:
        self.exact: set[str] = set()
        self.near = NearDuplicateIndex()
        for example in examples:
            self.check_and_add(example)

    def check_and_add(self, example: ChatExample) -> Rejected | None:
        key = full_key(example)
        if key in self.exact:
            return Rejected("duplicate", "an exact copy of a seed or an earlier example")
        match = self.near.add(len(self.exact), plain_text(example))
        if match is not None:
            return Rejected("near_duplicate", "at least 80% the same as an earlier example")
        self.exact.add(key)
        return None


def load_seeds(path: Path) -> list[ChatExample]:
    if not path.is_file():
        raise SynthError(f"no seeds file at {path}")
    loaded = read_dataset(path)
    if len(loaded.examples) < MIN_SEEDS:
        problems = "; ".join(str(issue) for issue in loaded.log.issues[:3])
        raise SynthError(
            f"{path} has {len(loaded.examples)} valid seed examples; at least {MIN_SEEDS} "
            f"are needed{': ' + problems if problems else ''}"
        )
    return loaded.examples


async def synthesize(job: SynthJob, on_progress: Callable[[Tally], None] | None = None) -> Tally:
    """Run ``job``; errors that make the run impossible come before any call (SynthError)."""
    if job.n <= 0:
        raise SynthError(f"--n must be at least 1, got {job.n}")
    if not job.task.strip():
        raise SynthError("the task description is empty")
    seeds = load_seeds(job.seeds)
    existing = existing_examples(job.out)
    wanted = max(0, job.n - len(existing))
    cap = job.max_calls if job.max_calls is not None else 3 * wanted
    tally = Tally(job.n, len(existing), CallCounts(cap))
    client = TeacherClient(job.teacher, tally.calls)
    try:
        if wanted == 0:
            return tally
        await client.check()
        dedupe = _Dedupe([*seeds, *existing])
        rng = random.Random(job.seed)
        job.out.parent.mkdir(parents=True, exist_ok=True)
        with job.out.open("a", encoding="utf-8") as out:
            run = _Run(job, seeds, tally, client, dedupe, rng, out, on_progress)
            await asyncio.gather(*(run.worker() for _ in range(max(1, job.concurrency))))
    finally:
        await client.aclose()
    return tally


@dataclass
class _Run:
    job: SynthJob
    seeds: list[ChatExample]
    tally: Tally
    client: TeacherClient
    dedupe: _Dedupe
    rng: random.Random
    out: IO[str]
    on_progress: Callable[[Tally], None] | None

    async def worker(self) -> None:
        while not self.tally.done:
            messages = teacher_messages(self.job.task, self.seeds, self.rng)
            try:
                text, finish = await self.client.complete(messages)
            except OutOfCalls:
                return
            except CallFailed:
                self._progress()
                continue
            self._take(text, finish)
            self._progress()

    def _take(self, text: str, finish: str | None) -> None:
        if self.tally.done:
            self.tally.surplus += 1
            return
        self.tally.answers += 1
        parsed = parse_answer(text, self.job.max_chars)
        if isinstance(parsed, ChatExample) and finish == "length":
            parsed = Rejected("too_long", "the answer was cut at max_tokens")
        if isinstance(parsed, ChatExample):
            parsed = self.dedupe.check_and_add(parsed) or parsed
        if isinstance(parsed, Rejected):
            if finish == "length" and parsed.reason == "not_json":
                parsed = Rejected("too_long", "the answer was cut at max_tokens")
            self.tally.reject(parsed.reason, parsed.detail)
            return
        write_example(self.out, parsed, self.job.teacher.model)
        self.tally.accepted += 1

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.tally)
