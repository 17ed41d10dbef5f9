"""Every setting of loragate, in one typed place.

Read from ``LORAGATE_*`` environment variables (nested with ``__``, e.g.
``LORAGATE_ENGINE__MAX_LORA_RANK=32``) and from an optional YAML file named by
``LORAGATE_CONFIG``. Environment variables win over the file.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from adapters.lora_rules import max_rank_problem

DEFAULT_MODEL_NAME = "loragate-tiny"


class EngineSettings(BaseModel):
    """How the embedded vLLM server is started."""

    host: str = "127.0.0.1"
    port: int = Field(8001, ge=1, le=65535, description="The first engine's port.")
    count: int = Field(
        1, ge=1, le=64, description="Engines `loragate up` starts, on consecutive ports."
    )
    nice: int = Field(
        10,
        ge=0,
        le=19,
        description="CPU niceness of the embedded engines: their busy-waiting threads then "
        "leave the gateway and the worker their share of the CPU.",
    )
    nice_autogroup: bool = Field(
        True,
        description="Apply `nice` to the engine's session (its autogroup) too: under "
        "kernel.sched_autogroup_enabled sessions share the CPU equally whatever their "
        "processes' niceness, so without it `nice` does nothing against the gateway.",
    )
    cpu_binds: list[str] = Field(
        default_factory=list,
        description="VLLM_CPU_OMP_THREADS_BIND of each engine (CPU hosts); unset: the cores "
        "split evenly between the engines when there are several.",
    )
    adapter_dir: Path | None = Field(
        None,
        description="The adapter registry's folder as the engines see it (a shared volume "
        "mounted elsewhere); unset: the gateway's own path.",
    )
    max_lora_rank: int = Field(16, description="Largest LoRA rank the engine accepts.")
    max_loras: int = Field(4, ge=1, description="Adapters batched together at once.")
    memory_share: float = Field(
        0.1, gt=0, le=1, description="vLLM --gpu-memory-utilization on the CPU (share of RAM)."
    )
    gpu_memory_share: float = Field(
        0.9,
        gt=0,
        le=1,
        description="vLLM --gpu-memory-utilization of an engine alone on its GPU (lowered "
        "when the trainer shares the card: see finetune.gpu_budget_gib).",
    )
    max_model_len: int = Field(2048, ge=16)
    dtype: str = Field("auto", description="vLLM --dtype; the default model is float32.")
    extra_args: list[str] = Field(default_factory=list, description="Appended to vLLM's argv.")
    startup_timeout_s: float = Field(600, gt=0)
    restart_backoff_initial_s: float = Field(1.0, gt=0)
    restart_backoff_max_s: float = Field(30.0, gt=0)

    @field_validator("max_lora_rank")
    @classmethod
    def _legal_rank(cls, value: int) -> int:
        problem = max_rank_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class FinetuneSettings(BaseModel):
    """The Files and fine-tuning Jobs APIs, and the worker that runs the jobs."""

    devices: list[int] = Field(
        default_factory=list,
        description="GPUs (indices) the fine-tuning worker uses; unset: the last GPU when "
        "there are more GPUs than engines, else it shares the first engine's GPU.",
    )
    memory_limit_gib: float | None = Field(
        None,
        description="Accelerator memory a job may use; a job estimated to need more is "
        "refused when created. Unset: set by `loragate up` from its GPU plan; none on the CPU.",
    )
    gpu_budget_gib: float = Field(
        24.0,
        gt=0,
        description="GPU memory left to the trainer when it shares a GPU with an engine.",
    )
    max_file_bytes: int = Field(
        100 * 1024 * 1024, ge=1, description="Largest dataset file /v1/files accepts."
    )
    worker: bool = Field(
        True,
        description="`loragate up` starts a fine-tuning worker; false: jobs stay queued until "
        "a `loragate worker` runs (e.g. on another host, or never: an API fuzzed in CI).",
    )
    heartbeat_s: float = Field(2.0, gt=0, description="How often a worker marks its job alive.")
    stale_after_s: float = Field(
        30.0, gt=0, description="A running job silent this long is taken over by a worker."
    )
    max_attempts: int = Field(3, ge=1, description="Runs of a job (with resumes) before failing.")
    poll_s: float = Field(1.0, gt=0, description="How often an idle worker looks for jobs.")
    cancel_grace_s: float = Field(
        15.0, gt=0, description="Time a cancelled job's trainer gets to stop before it is killed."
    )
    handback_grace_s: float = Field(
        4.0,
        gt=0,
        description="On SIGTERM, time the trainer gets to checkpoint before its job is handed "
        "back (the worker then exits; keep it well under Kubernetes' 30 s grace).",
    )
    eval_max_new_tokens: int = Field(
        32, ge=1, description="Answer length in the before/after exact-match evaluation."
    )
    eval_max_examples: int = Field(
        500, ge=1, description="Test examples used (at most) in the before/after evaluation."
    )
    report_at_upload_max_bytes: int = Field(
        8 * 1024 * 1024,
        ge=0,
        description="Files up to this size get their quality report while being uploaded; "
        "larger ones when it is first asked for (or by the job that trains on them).",
    )


class MetricsSettings(BaseModel):
    """What ``GET /metrics`` exports (see :mod:`gateway.observability`)."""

    adapter_labels: int = Field(
        20, ge=0, description="Adapters named in metric labels; later ones are folded into other."
    )
    model_labels: int = Field(
        10, ge=1, description="Base model names in metric labels; later ones become other."
    )
    multiproc_dir: Path | None = Field(
        None,
        description="Folder the gateway's workers share metrics through, emptied at launch; "
        "unset: <data dir>/run/metrics. Must not be shared between hosts or pods.",
    )


class AuthSettings(BaseModel):
    """API keys (see :mod:`gateway.auth`)."""

    enabled: bool = Field(
        True, description="Require an API key on every route but health, metrics and status."
    )
    admin_key_file: Path | None = Field(
        None, description="Where the first start writes the admin key; unset: <data dir>/admin.key."
    )
    cache_s: float = Field(
        5.0, ge=0, description="How long a worker trusts a looked-up key (revocation delay)."
    )


class ModelLimit(BaseModel):
    """A limit on one model or adapter, shared by every caller."""

    rpm: int | None = Field(None, ge=1, description="Requests per minute.")
    tpm: int | None = Field(None, ge=1, description="Tokens (prompt + completion) per minute.")


class RateLimitSettings(BaseModel):
    """Per-key and per-model limits, and the cap on work in flight to the engines."""

    redis_url: str | None = Field(
        None, description="Counters in Redis (exact across workers and replicas); unset: memory."
    )
    window_s: int = Field(60, ge=1, description="Length of a rate-limit window.")
    default_rpm: int | None = Field(None, ge=1, description="For keys created without --rpm.")
    default_tpm: int | None = Field(None, ge=1, description="For keys created without --tpm.")
    models: dict[str, ModelLimit] = Field(
        default_factory=dict, description="Limits per model or adapter name."
    )
    reserve_completion_tokens: int = Field(
        256, ge=1, description="Tokens reserved for the answer when a request sets no max_tokens."
    )
    max_in_flight: int = Field(
        256, ge=1, description="Completion requests at the engines at once (all workers)."
    )
    max_queued: int = Field(
        512, ge=0, description="Requests waiting for a slot; past it: 503 at once."
    )
    queue_timeout_s: float = Field(30.0, gt=0, description="Longest wait for a slot.")


class FallbackUpstream(BaseModel):
    """An OpenAI-compatible endpoint requests go to when the engines cannot serve them."""

    url: str = Field(description="Base URL, with or without /v1.")
    api_key: str | None = Field(None, description="Sent as Authorization: Bearer.")
    model: str | None = Field(
        None, description="Model name to ask it for; unset: the name the client asked for."
    )


class ProtectionSettings(BaseModel):
    """The degradation switch, circuit breakers and the fallback chain."""

    fallbacks: list[FallbackUpstream] = Field(
        default_factory=list, description="Tried in order when the engines' breakers are open."
    )
    switch_refresh_s: float = Field(
        0.5, gt=0, description="How often each worker re-reads the degradation switch."
    )
    breaker_failures: int = Field(
        5, ge=1, description="Failures in a row (errors, timeouts, 5xx) that open a breaker."
    )
    breaker_open_s: float = Field(
        10.0, gt=0, description="How long an open breaker waits before one probe request."
    )


class RoutingSettings(BaseModel):
    """How a request's engine is chosen among several (see :mod:`gateway.fleet.policy`).

    Loads are in requests per unit of an engine's static capacity; the defaults come from
    bench/fleet_sim.py (README, "Routing across engines").
    """

    busy_load: float = Field(
        16.0, gt=0, description="Load at which an engine counts as busy: a loaded adapter spills."
    )
    balance: float = Field(
        0.5,
        ge=0,
        description="Busy also needs a load past (1 + balance) x the fleet's mean load.",
    )
    slot_penalty: float = Field(
        8.0,
        ge=0,
        description="Added to the load of an engine whose LoRA slots are all taken "
        "by other adapters.",
    )
    waiting_weight: float = Field(
        1.0, ge=0, description="Extra load per request waiting in the engine's queue."
    )
    kv_weight: float = Field(
        2.0, ge=0, description="Extra load at a full KV cache (scaled by its use, 0..1)."
    )
    poll_interval_s: float = Field(
        0.25, gt=0, description="How often each engine's /metrics and /v1/models are read."
    )
    share_dir: Path | None = Field(
        None,
        description="Folder the workers of one host share engine state through (one scrape "
        "per engine per interval for the host); unset: <data dir>/run/engine-state. Must "
        "not be shared between hosts or pods.",
    )


class DiscoverySettings(BaseModel):
    """Engines found by DNS: every address a name resolves to (a Kubernetes headless
    service) is an engine, re-resolved every ``interval_s``."""

    dns: str | None = Field(
        None, description="host:port, e.g. vllm.loragate.svc.cluster.local:8000; unset: off."
    )
    interval_s: float = Field(5.0, gt=0, description="How often the name is resolved again.")
    scheme: str = Field("http", pattern="^https?$")


class ConsoleSettings(BaseModel):
    """The web console the gateway serves under ``/ui`` (static files; see README)."""

    enabled: bool = Field(True, description="Serve the console under /ui.")
    grafana_url: str | None = Field(
        None, description="Where the overview page links for the Grafana dashboards."
    )
    live_interval_s: float = Field(
        0.5, gt=0, description="How often a watched job is read (shared by all its viewers)."
    )


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
