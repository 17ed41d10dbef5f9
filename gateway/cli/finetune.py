"""``loragate finetune``: upload a dataset, start a LoRA fine-tune, follow it, manage jobs.

A client of a running gateway (``--url``, default ``http://<host>:<port>`` from settings),
with an API key (``--api-key`` / ``LORAGATE_API_KEY``, default: the admin key file).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from gateway.settings import Settings

app = typer.Typer(help="Fine-tune LoRA adapters through a running gateway.", no_args_is_help=True)
console = Console()

Url = Annotated[str | None, typer.Option(help="Gateway URL (default: from settings).")]
Key = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="LORAGATE_API_KEY",
        help="API key (default: the admin key file, when it exists).",
    ),
]
TERMINAL = ("succeeded", "failed", "cancelled")


def _client(url: str | None, api_key: str | None) -> httpx.Client:
    settings = Settings()
    if url is None:
        url = f"http://{settings.host}:{settings.port}"
    api_key = api_key or _admin_key(settings)
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    base_url = url.rstrip("/").removesuffix("/v1")
    return httpx.Client(base_url=base_url, headers=headers, timeout=600)


def _admin_key(settings: Settings) -> str | None:
    """The key in the admin key file the first start wrote, when this user can read it."""
    try:
        return settings.admin_key_path.read_text().strip() or None
    except OSError:
        return None


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        console.print(f"[red]cannot reach the gateway at {client.base_url}[/]: {exc}")
        raise typer.Exit(2) from exc
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        console.print(f"[red]error {response.status_code}[/]: {body['error']['message']}")
        raise typer.Exit(1)
    return body


def upload(client: httpx.Client, path: Path) -> str:
    with path.open("rb") as handle:
        files = {"file": (path.name, handle)}
        body = _call(client, "POST", "/v1/files", files=files, data={"purpose": "fine-tune"})
    console.print(f"uploaded {path} as {body['id']} ({body['examples']} examples)")
    return str(body["id"])


def _file_id(client: httpx.Client, data: str) -> str:
    return data if data.startswith("file-") else upload(client, Path(data))


@app.command()
def create(
    data: Annotated[str, typer.Argument(help="Dataset file to upload, or an uploaded file id.")],
    suffix: Annotated[str | None, typer.Option(help="Name part of the adapter.")] = None,
    model: Annotated[str | None, typer.Option(help="Base model (default: the served one).")] = None,
    validation: Annotated[str | None, typer.Option(help="Validation file or file id.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the data.")] = None,
    batch_size: Annotated[int | None, typer.Option()] = None,
    learning_rate: Annotated[float | None, typer.Option()] = None,
    rank: Annotated[int | None, typer.Option(help="LoRA rank r.")] = None,
    alpha: Annotated[int | None, typer.Option(help="LoRA alpha.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    follow: Annotated[bool, typer.Option(help="Show progress until the job ends.")] = False,
    url: Url = None,
    api_key: Key = None,
) -> None:
    """Upload DATA (unless it is a file id) and start a LoRA fine-tune on it."""
    with _client(url, api_key) as client:
        hyper = {"n_epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate}
        body = {
            "model": model or Settings().base_model_name,
            "training_file": _file_id(client, data),
            "validation_file": _file_id(client, validation) if validation else None,
            "suffix": suffix,
            "seed": seed,
            "hyperparameters": {k: v for k, v in hyper.items() if v is not None},
            "lora": {k: v for k, v in {"r": rank, "alpha": alpha}.items() if v is not None},
        }
        job = _call(client, "POST", "/v1/fine_tunes", json=body)
        console.print(f"created {job['id']} ({job['status']})")
        if follow:
            _follow(client, job["id"])


def _follow(client: httpx.Client, job_id: str) -> None:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[steps]}"),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("queued", total=None, steps="", loss="")
        path = f"/v1/fine_tuning/jobs/{job_id}/events"
        with client.stream("GET", path, params={"stream": "true"}) as stream:
            for line in stream.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                _show_event(progress, task, json.loads(line[len("data: ") :]))
    _summary(_call(client, "GET", f"/v1/fine_tuning/jobs/{job_id}"))


def _show_event(progress: Progress, task: Any, event: dict[str, Any]) -> None:
    data = event.get("data") or {}
    if event.get("type") == "metrics" and data.get("total_steps"):
        losses = [f"loss {data['train_loss']:.4f}"] if data.get("train_loss") is not None else []
        if data.get("eval_loss") is not None:
            losses.append(f"eval {data['eval_loss']:.4f}")
        progress.update(
            task, description="training", total=data["total_steps"], completed=data["step"],
            steps=f"step {data['step']}/{data['total_steps']}", loss=" ".join(losses),
        )  # fmt: skip
    else:
        progress.console.print(f"  {event['message']}")


def _summary(job: dict[str, Any]) -> None:
    colour = {"succeeded": "green", "failed": "red"}.get(job["status"], "yellow")
    console.print(f"[bold {colour}]{job['status']}[/]: {job['id']}")
    if job.get("error"):
        console.print(f"  {job['error']['message']}")
    if job.get("fine_tuned_model"):
        console.print(f"  model: [bold]{job['fine_tuned_model']}[/]")
    result = job.get("result") or {}
    for name in ("base", "adapter"):
        if name in result:
            scores = result[name]
            loss = scores["mean_loss"]
            shown = "n/a" if loss is None else f"{loss:.4f}"
            console.print(f"  {name:>7}: exact match {scores['exact_match']:.1%}, loss {shown}")


@app.command("list")
def list_jobs(limit: int = 20, url: Url = None, api_key: Key = None) -> None:
    """The latest fine-tuning jobs."""
    with _client(url, api_key) as client:
        page = _call(client, "GET", "/v1/fine_tuning/jobs", params={"limit": limit})
    table = Table("id", "status", "model", "fine_tuned_model", "created_at")
    for job in page["data"]:
        table.add_row(job["id"], job["status"], job["model"], job["fine_tuned_model"] or "",
                      str(job["created_at"]))  # fmt: skip
    console.print(table)


@app.command()
def show(job_id: str, events: int = 10, url: Url = None, api_key: Key = None) -> None:
    """A job's state, result and latest events."""
    with _client(url, api_key) as client:
        job = _call(client, "GET", f"/v1/fine_tuning/jobs/{job_id}")
        path = f"/v1/fine_tuning/jobs/{job_id}/events"
        recent = _call(client, "GET", path, params={"limit": events})["data"]
    _summary(job)
    console.print(f"  hyperparameters: {json.dumps(job['hyperparameters'])}")
    for event in reversed(recent):
        console.print(f"  [dim]{event['created_at']}[/] {event['message']}")


@app.command()
def cancel(job_id: str, url: Url = None, api_key: Key = None) -> None:
    """Cancel a job that has not finished."""
    with _client(url, api_key) as client:
        job = _call(client, "POST", f"/v1/fine_tuning/jobs/{job_id}/cancel")
    console.print(f"{job['id']}: {job['status']}")


@app.command()
def follow(job_id: str, url: Url = None, api_key: Key = None) -> None:
    """Show a job's progress until it ends."""
    with _client(url, api_key) as client:
        _follow(client, job_id)
