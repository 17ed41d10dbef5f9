"""The top-level :class:`Settings`: the sections, the process-wide fields, where they are read
from, and the paths and names derived from them."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from gateway.settings.engine import DiscoverySettings, EngineSettings, RoutingSettings
from gateway.settings.finetune import FinetuneSettings
from gateway.settings.observability import ConsoleSettings, MetricsSettings
from gateway.settings.protection import AuthSettings, ProtectionSettings, RateLimitSettings

DEFAULT_MODEL_NAME = "loragate-tiny"


class Settings(BaseSettings):
    """Top-level settings of the gateway, the engine supervisor and the CLI."""

    model_config = SettingsConfigDict(
        env_prefix="LORAGATE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(Path.home() / ".loragate", description="Models, jobs, adapters.")
    base_model: str | None = Field(
        None, description="HF model folder or hub id; unset means the embedded default model."
    )
    served_model_name: str | None = Field(
        None, description="Name clients use for the base model; derived when unset."
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, description="Gateway worker processes.")
    upstreams: list[str] = Field(
        default_factory=list,
        description="Existing OpenAI-compatible servers; when set, no engine is started.",
    )
    engine: EngineSettings = Field(default_factory=EngineSettings)
    discovery: DiscoverySettings = Field(default_factory=DiscoverySettings)
    database_url: str | None = Field(
        None, description="Job store (SQLAlchemy URL); unset: SQLite file in the data folder."
    )
    finetune: FinetuneSettings = Field(default_factory=FinetuneSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    protection: ProtectionSettings = Field(default_factory=ProtectionSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    upstream_connect_timeout_s: float = Field(10.0, gt=0)
    upstream_timeout_s: float = Field(600.0, gt=0)
    health_interval_s: float = Field(1.0, gt=0)
    retry_after_s: int = Field(5, ge=1, description="Retry-After sent with 503s.")
    log_level: str = "info"
    teacher_api_key: str | None = Field(
        None, description="Key `loragate data synth` sends to its teacher (another API)."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("LORAGATE_CONFIG")
        if config_file:
            if not Path(config_file).is_file():
                raise FileNotFoundError(f"LORAGATE_CONFIG names {config_file}, which is missing")
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)

    @property
    def uses_embedded_engine(self) -> bool:
        return not self.upstreams and self.discovery.dns is None

    @property
    def default_model_dir(self) -> Path:
        return self.data_dir / "models" / DEFAULT_MODEL_NAME

    @property
    def adapters_dir(self) -> Path:
        """The adapter registry's folder (shared by every worker and replica)."""
        return self.data_dir / "adapters"

    @property
    def admin_key_path(self) -> Path:
        """The file the first start writes the admin key to."""
        return self.auth.admin_key_file or self.data_dir / "admin.key"

    @property
    def run_dir(self) -> Path:
        """Where running processes leave pid files and state."""
        return self.data_dir / "run"

    @property
    def engine_state_dir(self) -> Path:
        """Where the workers of this host share the engines' scraped state."""
        return self.routing.share_dir or self.run_dir / "engine-state"

    @property
    def job_database_url(self) -> str:
        """Where files, jobs, events and checkpoints are recorded."""
        return self.database_url or f"sqlite:///{self.data_dir / 'loragate.db'}"

    @cached_property
    def base_model_path(self) -> str:
        """What the engine loads: the configured model, or the embedded default's folder."""
        return self.base_model or str(self.default_model_dir)

    @cached_property
    def base_model_name(self) -> str | None:
        """The name clients use for the base model, when it can be known without asking."""
        if self.served_model_name:
            return self.served_model_name
        if self.base_model is None:
            return DEFAULT_MODEL_NAME if self.uses_embedded_engine else None
        return self.base_model.rstrip("/").split("/")[-1] if self.uses_embedded_engine else None

    @cached_property
    def upstream_urls(self) -> list[str]:
        """Base URLs (without /v1) of the servers named in advance (DNS adds more)."""
        if self.upstreams:
            return [_strip_v1(url) for url in self.upstreams]
        if self.discovery.dns is not None:
            return []
        host, port = self.engine.host, self.engine.port
        return [f"http://{host}:{port + i}" for i in range(self.engine.count)]


def _strip_v1(url: str) -> str:
    url = url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
