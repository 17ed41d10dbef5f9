"""``loragate data synth``: make a dataset with a teacher model (any OpenAI-compatible API,
by default this loragate), from a task description and a few seed examples."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from gateway.settings import Settings, load_settings

if TYPE_CHECKING:
    from trainer.datasets.synth import Tally

console = Console(stderr=True)


def synth(
    task: Annotated[Path, typer.Option(help="What the examples are for (text/markdown file).")],
    seeds: Annotated[Path, typer.Option(help="At least 3 seed examples, any format.")],
    n: Annotated[int, typer.Option("--n", help="Examples wanted in --out (existing count).")],
    out: Annotated[Path, typer.Option(help="Output JSONL; an existing file is continued.")],
    teacher_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible base URL (default: this loragate).")
    ] = None,
    teacher_model: Annotated[
        str | None, typer.Option(help="Teacher model (default: the base model).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Calls in flight at once.")] = 8,
    max_calls: Annotated[
        int | None, typer.Option(help="Cap on calls, retries included (default: 3 x N).")
    ] = None,
    temperature: Annotated[float, typer.Option(min=0.01, help="Sampling temperature.")] = 0.9,
    max_tokens: Annotated[int, typer.Option(min=1, help="Longest answer asked for.")] = 512,
    json_mode: Annotated[bool, typer.Option(help="Also send response_format json_object.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the few-shot samples.")] = 0,
) -> None:
    """Ask a teacher for examples until --n are in --out; prints what was rejected and why.
    Exit 1 when nothing was accepted, 2 when the run could not start."""
    from trainer.datasets.synth import SynthError, SynthJob, Teacher, TeacherError, synthesize

    if not task.is_file():
        raise typer.BadParameter(f"{task} is not a file", param_hint="--task")
    settings = load_settings()
    model = teacher_model or settings.base_model_name
    if model is None:
        raise typer.BadParameter("name the teacher's model", param_hint="--teacher-model")
    teacher = Teacher(
        url=teacher_url or f"http://{settings.host}:{settings.port}/v1", model=model,
        api_key=_key(settings, teacher_url is None), temperature=temperature,
        max_tokens=max_tokens, json_mode=json_mode,
    )  # fmt: skip
    job = SynthJob(
        task=task.read_text(encoding="utf-8"), seeds=seeds, n=n, out=out, teacher=teacher,
        concurrency=concurrency, max_calls=max_calls, seed=seed,
    )  # fmt: skip
    try:
        with _progress() as bar:
            row = bar.add_task("synth", total=n, status="")

            def show(tally: Tally) -> None:
                bar.update(row, completed=tally.existing + tally.accepted, status=_status(tally))

            tally = asyncio.run(synthesize(job, show))
    except (SynthError, TeacherError) as exc:
        console.print(f"[red]error: {exc}[/]")
        raise typer.Exit(2) from exc
    summary = tally.as_dict()
    console.print(json.dumps(summary, ensure_ascii=False, indent=2), markup=False)
    console.print(
        f"{out}: {tally.existing + tally.accepted} of {n} examples "
        f"({tally.accepted} new from {tally.calls.calls} calls)"
    )
    raise typer.Exit(1 if tally.accepted == 0 and not tally.done else 0)


def _key(settings: Settings, local: bool) -> str | None:
    """LORAGATE_TEACHER_API_KEY; for this loragate, its admin key file when that is unset."""
    key = settings.teacher_api_key
    if key or not local:
        return key
    path = settings.admin_key_path
    return path.read_text().strip() if path.is_file() else None


def _progress() -> Progress:
    columns = (TextColumn("accepted"), BarColumn(), MofNCompleteColumn())
    return Progress(*columns, TextColumn("{task.fields[status]}"), console=console)


def _status(tally: Tally) -> str:
    reasons = ", ".join(f"{reason} {count}" for reason, count in tally.rejected.most_common())
    failed = sum(tally.calls.failed.values())
    text = f"calls {tally.calls.calls}, rejected {sum(tally.rejected.values())}"
    text += f" ({reasons})" if reasons else ""
    return text + (f", failed {failed}" if failed else "")
