"""Every metric the gateway exports, with its labels and buckets, in one place.

Gauges say how multiprocess mode combines the workers' values: ``livesum`` for counts of
things in progress, ``livemax``/``livemin`` for views of shared state every worker samples.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "loragate"
OTHER = "other"
"""Label value that stands for every adapter or model beyond the label budget."""
NO_ADAPTER = "none"
"""The ``adapter`` label of requests for a base model."""
UNKNOWN = "unknown"
"""The ``model`` label of requests refused before their model was resolved."""

RATE_LIMIT_REASONS = ("requests", "tokens", "concurrency")
ENDPOINTS = ("chat", "completions")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
ITL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
LOAD_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

TRAFFIC = ("endpoint", "model", "adapter")

REQUESTS = Counter(
    f"{PREFIX}_requests",
    "Completion requests answered, by endpoint, model, adapter and status "
    "(HTTP status; 'interrupted': a stream that ended without [DONE]; "
    "'499': the client went away).",
    [*TRAFFIC, "status"],
)
REQUEST_SECONDS = Histogram(
    f"{PREFIX}_request_duration_seconds",
    "End-to-end time of a completion request in the gateway, to its last byte.",
    [*TRAFFIC, "stream"],
    buckets=LATENCY_BUCKETS,
)
TTFT_SECONDS = Histogram(
    f"{PREFIX}_time_to_first_token_seconds",
    "Streams: time from the request's arrival to the first chunk relayed to the client.",
    TRAFFIC,
    buckets=TTFT_BUCKETS,
)
ITL_SECONDS = Histogram(
    f"{PREFIX}_inter_token_latency_seconds",
    "Streams: mean time between relayed chunks, one observation per stream.",
    TRAFFIC,
    buckets=ITL_BUCKETS,
)
STREAM_CHUNKS = Counter(
    f"{PREFIX}_stream_chunks",
    "Streams: chunks relayed to clients.",
    TRAFFIC,
)
PROMPT_TOKENS = Counter(
    f"{PREFIX}_prompt_tokens",
    "Prompt tokens, from the engine's usage (streams: only when include_usage was asked).",
    TRAFFIC,
)
COMPLETION_TOKENS = Counter(
    f"{PREFIX}_completion_tokens",
    "Completion tokens, from the engine's usage (streams: only when include_usage was asked).",
    TRAFFIC,
)
IN_FLIGHT = Gauge(
    f"{PREFIX}_requests_in_flight",
    "Completion requests being served now.",
    multiprocess_mode="livesum",
)
QUEUED = Gauge(
    f"{PREFIX}_requests_queued",
    "Completion requests waiting for capacity (0 until rate limiting queues requests).",
    multiprocess_mode="livesum",
)
RATE_LIMIT_REJECTIONS = Counter(
    f"{PREFIX}_rate_limit_rejections",
    "Requests refused by a rate limit, by reason.",
    ["reason"],
)
DEGRADATION_MODE = Gauge(
    f"{PREFIX}_degradation_mode",
    "Degradation switch: 0 normal, 1 base-only, 2 fallback, 3 maintenance.",
    multiprocess_mode="livemax",
)
UPSTREAM_UP = Gauge(
    f"{PREFIX}_upstream_up",
    "1 while the upstream engine answers its health check (as every worker sees it).",
    ["upstream"],
    multiprocess_mode="livemin",
)
BREAKER_STATE = Gauge(
    f"{PREFIX}_upstream_breaker_state",
    "Circuit breaker per upstream (engines by public name, fallbacks as fallback-N): "
    "0 closed, 1 half-open, 2 open.",
    ["upstream"],
    multiprocess_mode="livemax",
)
ADAPTERS_RESIDENT = Gauge(
    f"{PREFIX}_adapters_resident",
    "LoRA adapters loaded in each upstream engine, as the gateway knows it.",
    ["upstream"],
    multiprocess_mode="livemax",
)
ENGINE_RUNNING = Gauge(
    f"{PREFIX}_engine_requests_running",
    "Requests the engine is running, from its own /metrics (at most one poll old).",
    ["engine"],
    multiprocess_mode="livemax",
)
ENGINE_WAITING = Gauge(
    f"{PREFIX}_engine_requests_waiting",
    "Requests waiting in the engine's queue, from its own /metrics.",
    ["engine"],
    multiprocess_mode="livemax",
)
ENGINE_KV_CACHE = Gauge(
    f"{PREFIX}_engine_kv_cache_usage",
    "Share of the engine's KV cache in use (0..1), from its own /metrics.",
    ["engine"],
    multiprocess_mode="livemax",
)
ENGINE_IN_FLIGHT = Gauge(
    f"{PREFIX}_engine_in_flight",
    "This gateway's requests at each engine now (summed over its workers).",
    ["engine"],
    multiprocess_mode="livesum",
)
ENGINE_ACTIVE_ADAPTERS = Gauge(
    f"{PREFIX}_engine_active_adapters",
    "Adapters estimated to occupy the engine's LoRA slots (compare with max_loras).",
    ["engine"],
    multiprocess_mode="livemax",
)
ADAPTER_PLACEMENT = Gauge(
    f"{PREFIX}_adapter_placement",
    "1 where an adapter is registered on an engine (adapters beyond the label budget: other).",
    ["adapter", "engine"],
    multiprocess_mode="livemax",
)
ROUTING_DECISIONS = Counter(
    f"{PREFIX}_routing_decisions",
    "Engine choices by kind: base (least loaded), affinity (an engine that has the adapter), "
    "spill (its holders were busy), cold (placed by rendezvous hashing).",
    ["kind"],
)
ROUTING_KINDS = ("base", "affinity", "spill", "cold")
ADAPTER_LOADS = Counter(
    f"{PREFIX}_adapter_loads",
    "Runtime adapter loads into an engine, by adapter and result ('ok', 'already_loaded' "
    "when another gateway loaded it first, or an error code).",
    ["adapter", "result"],
)
ADAPTER_LOAD_SECONDS = Histogram(
    f"{PREFIX}_adapter_load_seconds",
    "Time to load an adapter into an engine (successful loads).",
    buckets=LOAD_BUCKETS,
)


def initialise_label_sets() -> None:
    """Create the series whose label values are known up front, so they export 0."""
    for reason in RATE_LIMIT_REASONS:
        RATE_LIMIT_REJECTIONS.labels(reason)
    for kind in ROUTING_KINDS:
        ROUTING_DECISIONS.labels(kind)
    QUEUED.set(0)
    DEGRADATION_MODE.set(0)
