"""``synth`` against a real local OpenAI-compatible server answering a scripted mix."""

from __future__ import annotations

import json
from pathlib import Path

from tests.trainer.synth.conftest import SEEDS
from tests.trainer.synth.scripted_teacher import (
    answer,
    example_json,
    scripted_teacher,
    status,
)
from trainer.datasets import load_examples
from trainer.datasets.synth import SynthJob, Teacher, synthesize

A = ("Review: Burnt pizza crust and the cheese tasted of plastic, sadly.", "negative")
B = ("Review: Hot, fast and tasty; the rider even said thank you kindly.", "positive")
C = (
    "Review: The delivery took ninety minutes and the curry had leaked through the bag, "
    "which left the sofa stained and us hungry for the whole evening.",
    "negative",
)
C_NEAR = (C[0].replace("ninety", "ninety-one"), "negative")
D = ("Review: Great value lunch set, the tofu was silky and well seasoned.", "positive")
E = ("Review: Missing chopsticks and the sauce was nowhere to be found.", "negative")


def job(
    teacher_url: str, seeds: Path, out: Path, n: int, concurrency: int = 1, **extra: int
) -> SynthJob:
    """A run of one call at a time (unless asked): the script is answered in order."""
    teacher = Teacher(url=teacher_url, model="t", temperature=0.8)
    return SynthJob(
        task="t", seeds=seeds, n=n, out=out, teacher=teacher, concurrency=concurrency, **extra
    )


def pairs(path: Path) -> list[tuple[str, str]]:
    return [(e.messages[0].content, e.messages[-1].content) for e in load_examples(path)]


async def test_every_answer_is_counted_by_its_reason(seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    script = [
        answer(example_json(*A)),
        answer("```json\n" + example_json(*B) + "\n```"),
        answer("Sure! Here is one:\n" + example_json(*C) + "\nHope this helps."),
        answer("A good example would be a review about pizza."),
        answer(json.dumps({"question": "q", "reply": "r"})),
        answer(json.dumps({"messages": [{"role": "user", "content": "no answer"}]})),
        answer(example_json("long", "word " * 2000)),
        answer(example_json(*A)),
        answer(example_json(*SEEDS[0])),
        answer(example_json(*C_NEAR)),
        status(429, retry_after="1"),
        status(500),
        answer(example_json(*D)),
    ]
    with scripted_teacher(script) as teacher:
        tally = await synthesize(job(teacher.url, seeds, out, 4, max_calls=20))
        requests = list(teacher.requests)
    assert tally.accepted == 4
    assert tally.calls.calls == 13
    assert tally.answers == 11
    assert dict(tally.rejected) == {
        "not_json": 1,
        "wrong_shape": 1,
        "invalid": 1,
        "too_long": 1,
        "duplicate": 2,
        "near_duplicate": 1,
    }
    assert dict(tally.calls.retried) == {"http_429": 1, "http_500": 1}
    assert pairs(out) == [A, B, C, D]
    for line in out.read_text().splitlines():
        assert json.loads(line)["metadata"] == {"source": "synthetic", "teacher": "t"}
    times = [when for when, _, _ in requests]
    after_429 = times[11] - times[10]
    assert after_429 >= 0.95, f"Retry-After: 1 not honoured ({after_429:.2f} s)"
    after_500 = times[12] - times[11]  # no Retry-After: backoff 0.5 s x 2 (second try)
    assert after_500 >= 0.95, f"no backoff after a 500 ({after_500:.2f} s)"
    bodies = [body for _, _, body in requests]
    assert all(body["temperature"] > 0 for body in bodies)
    shown = {body["messages"][1]["content"] for body in bodies}
    assert len(shown) > 1  # each call shows a different sample of the seeds


async def test_a_continued_run_adds_without_duplicates(seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with scripted_teacher([answer(example_json(*A)), answer(example_json(*B))]) as teacher:
        first = await synthesize(job(teacher.url, seeds, out, 2))
    assert first.accepted == 2
    with out.open("a") as handle:
        handle.write('{"messages": [{"role": "user", "con')  # cut by an interruption
    script = [answer(example_json(*B)), answer(example_json(*D)), answer(example_json(*E))]
    with scripted_teacher(script) as teacher:
        second = await synthesize(job(teacher.url, seeds, out, 4))
    assert (second.existing, second.accepted, dict(second.rejected)) == (2, 2, {"duplicate": 1})
    assert pairs(out) == [A, B, D, E]


async def test_the_call_cap_stops_a_run(seeds: Path, tmp_path: Path) -> None:
    with scripted_teacher([], default=answer("no JSON here")) as teacher:
        tally = await synthesize(job(teacher.url, seeds, tmp_path / "o.jsonl", 5, concurrency=4))
        assert len(teacher.requests) == 15  # 3 x N
    assert tally.accepted == 0
    assert dict(tally.rejected) == {"not_json": 15}


async def test_answers_cut_at_max_tokens_are_too_long(seeds: Path, tmp_path: Path) -> None:
    script = [answer('{"messages": [{"role": "user", "content": "abc', finish_reason="length")]
    with scripted_teacher(script * 3, default=answer(example_json(*D))) as teacher:
        tally = await synthesize(job(teacher.url, seeds, tmp_path / "o.jsonl", 1, max_calls=4))
    assert tally.rejected["too_long"] == 3
    assert tally.accepted == 1
