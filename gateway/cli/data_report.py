"""``loragate data report FILE``: what is well-formed but bad in a dataset, before training."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

console = Console()
COLOURS = {"error": "red", "warning": "yellow", "info": "cyan"}


def report(
    path: Path,
    model: Annotated[
        str | None,
        typer.Option(help="Model folder whose tokenizer counts tokens (default: the base model)."),
    ] = None,
    max_seq_len: Annotated[
        int, typer.Option(help="Training's max_seq_len: longer examples are truncated.")
    ] = 1024,
    max_model_len: Annotated[
        int | None, typer.Option(help="The engine's context (default: LORAGATE_ENGINE__...).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Report duplicates, near-duplicates, conflicts, imbalance, cut-off and over-long
    examples, each with its lines. Exit 1 when there are errors (warnings never block)."""
    from gateway.settings import load_settings
    from trainer.datasets.quality import build_report

    if not path.is_file():
        raise typer.BadParameter(f"{path} is not a file")
    settings = load_settings()
    tokenizer = _tokenizer(model or settings.base_model_path, explicit=model is not None)
    context = max_model_len or settings.engine.max_model_len
    found = build_report(path, tokenizer, max_model_len=context, max_seq_len=max_seq_len)
    if as_json:
        print(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print(found.as_dict())
    raise typer.Exit(1 if found.counts["error"] else 0)


def _tokenizer(model: str, explicit: bool) -> Any:
    if not explicit and not (Path(model) / "tokenizer_config.json").is_file():
        console.print(f"[yellow]no tokenizer at {model}: lengths are in characters[/]")
        return None
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model)


def _print(data: dict[str, Any]) -> None:
    stats = data["stats"]
    lengths, turns = stats["lengths"], stats["turns"]
    console.print(f"{data['path']}: {data['format']}, {data['examples']} examples, "
                  f"{turns['total']} turns")  # fmt: skip
    console.print(
        f"length ({lengths['unit']}): min {lengths['min']}, median {lengths['median']}, "
        f"p95 {lengths['p95']}, max {lengths['max']}"
    )
    if "over_max_seq_len" in lengths:
        console.print(
            f"over max_model_len {lengths['max_model_len']}: {lengths['over_max_model_len']}, "
            f"over max_seq_len {lengths['max_seq_len']}: {lengths['over_max_seq_len']}"
        )
    scripts = ", ".join(f"{name} {share:.0%}" for name, share in stats["scripts"].items())
    console.print(f"scripts: {scripts}")
    for item in data["findings"]:
        colour = COLOURS[item["severity"]]
        lines = ", ".join(str(line) for line in item["lines"])
        more = item["count"] - len(item["lines"])
        where = f" (lines {lines}{f' and {more} more' if more > 0 else ''})" if lines else ""
        console.print(f"[{colour}]{item['severity']}[/]: {item['message']}{where}")
        for detail in item["details"][:5]:
            console.print(f"    {detail}", markup=False)
    counts = data["counts"]
    console.print(f"errors {counts['error']}, warnings {counts['warning']}, notes {counts['info']}")
