"""``loragate data``: check, report on, convert and split chat datasets before uploading them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gateway.cli.data_report import report
from gateway.cli.data_synth import synth

app = typer.Typer(
    help="Synthesise, check, report on, convert and split chat datasets.", no_args_is_help=True
)
app.command()(report)
app.command()(synth)
console = Console()

Format = Annotated[str | None, typer.Option(help="Input format (default: detected).")]


def _tokenizer(model: str | None) -> Any:
    if model is None:
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model)


@app.command()
def validate(
    path: Path,
    model: Annotated[
        str | None, typer.Option(help="Model folder whose tokenizer counts tokens.")
    ] = None,
    max_seq_len: Annotated[int | None, typer.Option(help="Flag longer conversations.")] = None,
    format: Format = None,
) -> None:
    """Check every line of a dataset; exit 1 and list each problem if any."""
    from trainer.datasets import validate_file

    if max_seq_len is not None and model is None:
        raise typer.BadParameter("--max-seq-len needs --model to count tokens with")
    report = validate_file(
        path, tokenizer=_tokenizer(model), max_seq_len=max_seq_len, format=format
    )
    for issue in report.errors:
        console.print(f"[red]{issue}[/]")
    hidden = report.error_count - len(report.errors)
    if hidden > 0:
        console.print(f"[red]... and {hidden} more problems[/]")
    tokens = f", {report.tokens} tokens" if report.tokens is not None else ""
    verdict = "[green]ok[/]" if report.ok else f"[red]{report.error_count} problems[/]"
    console.print(f"{path}: {report.format}, {report.examples} usable examples{tokens}: {verdict}")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def convert(
    path: Path,
    out: Annotated[Path, typer.Option(help="Output JSONL (OpenAI messages).")],
    format: Format = None,
    prompt_column: Annotated[str | None, typer.Option(help="CSV: the prompt column.")] = None,
    completion_column: Annotated[str | None, typer.Option(help="CSV: the answer column.")] = None,
    system: Annotated[str | None, typer.Option(help="CSV: a system prompt for every row.")] = None,
) -> None:
    """Convert a dataset (Alpaca, ShareGPT, ChatGLM3, CSV, ...) to OpenAI messages JSONL."""
    from trainer.datasets import DatasetError, convert_csv, load_examples, write_jsonl

    try:
        if format == "csv" or path.suffix.lower() == ".csv":
            if not prompt_column or not completion_column:
                raise typer.BadParameter("CSV needs --prompt-column and --completion-column")
            examples = convert_csv(path, prompt_column, completion_column, system)
        else:
            examples = load_examples(path, format=format)
    except DatasetError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    count = write_jsonl(examples, out)
    console.print(f"wrote {count} examples to {out}")


@app.command()
def split(
    path: Path,
    ratios: Annotated[str, typer.Option(help="train,validation,test")] = "0.8,0.1,0.1",
    seed: int = 0,
) -> None:
    """Split a dataset into NAME.train/.validation/.test.jsonl beside it (seeded)."""
    from trainer.datasets import DatasetError, load_examples, split_examples, write_split

    parts = tuple(float(part) for part in ratios.split(","))
    if len(parts) != 3:
        raise typer.BadParameter("--ratios needs three numbers: train,validation,test")
    try:
        examples = load_examples(path)
        written = write_split(split_examples(examples, (parts[0], parts[1], parts[2]), seed), path)
    except (DatasetError, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    for part, part_path in written.items():
        console.print(f"{part}: {part_path}")
