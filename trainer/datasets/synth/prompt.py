"""What the teacher is asked: the task, a different sample of seeds each call, JSON out."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from trainer.datasets.example import ChatExample

SHOTS = 3
INSTRUCTIONS = """You write training examples for fine-tuning a chat model.

The task the examples are for:
{task}

Write ONE new example for this task. It must be different from the examples shown (a new
input, not a rewording), realistic, and its answer must follow the task's rules exactly.
Reply with a single JSON object and nothing else, in this shape:
{{"messages": [{{"role": "user", "content": "..."}}, {{"role": "assistant", "content": "..."}}]}}"""


def teacher_messages(
    task: str, seeds: Sequence[ChatExample], rng: random.Random
) -> list[dict[str, str]]:
    """The chat sent to the teacher: instructions, then a random sample of the seeds."""
    shots = rng.sample(list(seeds), min(SHOTS, len(seeds)))
    shown = "\n".join(
        json.dumps({"messages": shot.as_dicts()}, ensure_ascii=False) for shot in shots
    )
    return [
        {"role": "system", "content": INSTRUCTIONS.format(task=task.strip())},
        {"role": "user", "content": f"Examples:\n{shown}\n\nNow one new example as JSON."},
    ]
