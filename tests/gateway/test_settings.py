from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.settings import Settings


def test_defaults_use_the_embedded_engine(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.uses_embedded_engine
    assert settings.base_model_name == "loragate-tiny"
    assert settings.base_model_path == str(tmp_path / "models" / "loragate-tiny")
    assert settings.upstream_urls == ["http://127.0.0.1:8001"]


def test_environment_and_nested_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORAGATE_ENGINE__MAX_LORA_RANK", "32")
    monkeypatch.setenv("LORAGATE_UPSTREAMS", '["http://a:1/v1", "http://b:2"]')
    settings = Settings()
    assert settings.engine.max_lora_rank == 32
    assert settings.upstream_urls == ["http://a:1", "http://b:2"]
    assert not settings.uses_embedded_engine
    assert settings.base_model_name is None


def test_yaml_file_under_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "loragate.yaml"
    config.write_text("port: 9100\nbase_model: /models/qwen\nengine:\n  max_loras: 8\n")
    monkeypatch.setenv("LORAGATE_CONFIG", str(config))
    monkeypatch.setenv("LORAGATE_PORT", "9200")
    settings = Settings()
    assert settings.port == 9200
    assert settings.engine.max_loras == 8
    assert settings.base_model_name == "qwen"


def test_illegal_rank_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_lora_rank"):
        Settings(engine={"max_lora_rank": 12})


def test_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LORAGATE_CONFIG", "/nonexistent/loragate.yaml")
    with pytest.raises(FileNotFoundError):
        Settings()
