"""``engine.adapter_dir``: the registry path as the engines see it (a volume mounted elsewhere)."""

from __future__ import annotations

from pathlib import Path

from gateway.fleet.loader import engine_path
from gateway.settings import Settings


def test_registry_paths_are_rewritten_for_the_engines(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, engine={"adapter_dir": "/mnt/adapters"})
    inside = settings.adapters_dir / "ft:m:x:ftjob-1" / "v1"
    assert engine_path(str(inside), settings) == "/mnt/adapters/ft:m:x:ftjob-1/v1"
    assert engine_path("/elsewhere/a", settings) == "/elsewhere/a"  # not in the registry


def test_without_adapter_dir_the_path_is_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    path = str(settings.adapters_dir / "a")
    assert engine_path(path, settings) == path
