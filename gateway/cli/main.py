"""``loragate``: run the product, or one part of it."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from gateway import __version__
from gateway.cli import data as data_cli
from gateway.cli import db as db_cli
from gateway.cli import degrade as degrade_cli
from gateway.cli import finetune as finetune_cli
from gateway.cli import keys as keys_cli
from gateway.settings import Settings

app = typer.Typer(
    help="loragate: an OpenAI-compatible gateway over vLLM with LoRA fine-tuning.",
    no_args_is_help=True,
)
console = Console(stderr=True)
app.add_typer(finetune_cli.app, name="finetune")
app.add_typer(data_cli.app, name="data")
app.add_typer(degrade_cli.app, name="degrade")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(db_cli.app, name="db")

DataDir = Annotated[Path | None, typer.Option(help="Data folder (LORAGATE_DATA_DIR).")]
Port = Annotated[int | None, typer.Option(help="Gateway port (LORAGATE_PORT).")]
Engines = Annotated[
    int | None,
    typer.Option(
        min=1, help="vLLM engines to start, one per GPU or core group (LORAGATE_ENGINE__COUNT)."
    ),
]
BaseModel = Annotated[
    str | None, typer.Option(help="HF model folder or hub id (LORAGATE_BASE_MODEL).")
]


def _settings(**overrides: Any) -> Settings:
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def _ensure_model(settings: Settings) -> None:
    if settings.base_model is not None or not settings.uses_embedded_engine:
        return
    from trainer.default_model import ensure_default_model, is_complete

    if is_complete(settings.default_model_dir):
        return
    with console.status("creating the embedded default model (random weights, no download)..."):
        path = ensure_default_model(settings.default_model_dir)
    console.print(f"default model created in {path}")


@app.command()
def up(
    data_dir: DataDir = None,
    port: Port = None,
    base_model: BaseModel = None,
    engines: Engines = None,
) -> None:
    """Start everything: the engines, the gateway and the worker; Ctrl-C stops them all."""
    from gateway.auth.bootstrap import ensure_admin_key
    from gateway.cli.stack import run_stack

    if engines is not None:  # nested: through the environment, so ENGINE__* others still apply
        os.environ["LORAGATE_ENGINE__COUNT"] = str(engines)
    settings = _settings(data_dir=data_dir, port=port, base_model=base_model)
    _ensure_model(settings)
    ensure_admin_key(settings)
    raise typer.Exit(asyncio.run(run_stack(settings)))


@app.command()
def serve(port: Port = None, workers: Annotated[int | None, typer.Option()] = None) -> None:
    """Run only the gateway, in front of the configured upstreams or embedded engine port."""
    import uvicorn

    from gateway.auth.bootstrap import ensure_admin_key
    from gateway.observability.multiproc import use_metrics_dir

    settings = _settings(port=port, workers=workers)
    ensure_admin_key(settings)
    use_metrics_dir(settings)
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level,
    )


@app.command()
def worker(data_dir: DataDir = None, base_model: BaseModel = None) -> None:
    """Run fine-tuning jobs from the job store, one at a time, until stopped."""
    from gateway.finetune.worker import run_worker

    run_worker(_settings(data_dir=data_dir, base_model=base_model))


ModelFamily = Annotated[
    str,
    typer.Option(
        help="llama: the embedded default (loragate-tiny); qwen2: a tiny Qwen2 on Qwen's BPE."
    ),
]


@app.command("init-model")
def init_model(data_dir: DataDir = None, family: ModelFamily = "llama") -> None:
    """Create a random-weights test model in the data folder (idempotent, no download)."""
    settings = _settings(data_dir=data_dir)
    if family == "llama":
        from trainer.default_model import ensure_default_model

        path = ensure_default_model(settings.default_model_dir)
    elif family == "qwen2":
        from trainer.qwen2_model import QWEN2_MODEL_NAME, ensure_qwen2_model

        path = ensure_qwen2_model(settings.data_dir / "models" / QWEN2_MODEL_NAME)
    else:
        raise typer.BadParameter(
            f"unknown family {family!r}: use llama or qwen2", param_hint="--family"
        )
    typer.echo(str(path))


@app.command()
def version() -> None:
    """Print loragate's version and the versions of what it runs on."""
    info: dict[str, str] = {"loragate": __version__}
    for package in ("vllm", "torch", "transformers", "fastapi"):
        info[package] = _package_version(package)
    typer.echo(json.dumps(info, indent=2))


def _package_version(name: str) -> str:
    from importlib import metadata

    for dist in (name, f"{name}-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


if __name__ == "__main__":
    app()
