"""Reading an engine's load from its vLLM /metrics page."""

from __future__ import annotations

import time
from pathlib import Path

from gateway.fleet.engine_metrics import EngineMetrics, parse_engine_metrics

# A real page: vLLM 0.32 (CPU) with max_loras 8, saved by bench/engine_profile.py after
# streams of up to 8 adapters had run; its newest lora_requests_info series is the idle one.
REAL_PAGE = (Path(__file__).parent / "vllm_metrics.txt").read_text()
A, B, C = "ft:tiny:a:job-1", "ft:tiny:b:job-2", "ft:tiny:c:job-3"


def lora_line(running: str, waiting: str, stamp: float, max_lora: int = 4) -> str:
    return (
        f'vllm:lora_requests_info{{max_lora="{max_lora}",running_lora_adapters="{running}",'
        f'waiting_lora_adapters="{waiting}"}} {stamp!r}\n'
    )


def test_the_real_page() -> None:
    metrics = parse_engine_metrics(REAL_PAGE)
    assert metrics == EngineMetrics(0, 0, 0.0, 8, frozenset(), frozenset())
    # The page does hold older series naming adapters: they must not be read.
    assert "prof7" in REAL_PAGE


def test_a_busy_page_with_lingering_lora_series_reads_the_newest() -> None:
    page = (
        "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
        "# TYPE vllm:num_requests_running gauge\n"
        'vllm:num_requests_running{engine="0",model_name="m"} 5.0\n'
        'vllm:num_requests_waiting_by_reason{engine="0",model_name="m",reason="capacity"} 9.0\n'
        'vllm:num_requests_waiting{engine="0",model_name="m"} 2.0\n'
        'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.375\n'
        + lora_line(f"{A},{B}", "", 1796020809.5)
        + lora_line(C, A, 1796020810.25)
        + lora_line("", "", 1796020801.0)
    )
    assert parse_engine_metrics(page) == EngineMetrics(
        5, 2, 0.375, 4, frozenset({C}), frozenset({A})
    )


def test_series_of_several_engine_cores_add_up() -> None:
    page = (
        'vllm:num_requests_running{engine="0",model_name="m"} 3.0\n'
        'vllm:num_requests_running{engine="1",model_name="m"} 4.0\n'
        'vllm:num_requests_waiting{engine="0",model_name="m"} 1.0\n'
        'vllm:num_requests_waiting{engine="1",model_name="m"} 0.0\n'
        'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.2\n'
        'vllm:kv_cache_usage_perc{engine="1",model_name="m"} 0.7\n'
    )
    metrics = parse_engine_metrics(page)
    assert (metrics.running, metrics.waiting, metrics.kv_cache_usage) == (7, 1, 0.7)


def test_the_older_kv_cache_name_is_read_when_the_new_one_is_missing() -> None:
    page = 'vllm:gpu_cache_usage_perc{model_name="m"} 0.5\nvllm:num_requests_running 1\n'
    metrics = parse_engine_metrics(page)
    assert (metrics.kv_cache_usage, metrics.running) == (0.5, 1)
    both = page + 'vllm:kv_cache_usage_perc{model_name="m"} 0.25\n'
    assert parse_engine_metrics(both).kv_cache_usage == 0.25


def test_missing_or_broken_series_read_as_nothing() -> None:
    assert parse_engine_metrics("") == EngineMetrics()
    page = (
        "vllm:num_requests_running NaN\n"
        "vllm:num_requests_waiting oops\n"
        "# vllm:num_requests_running 9\n"
        "other:num_requests_running 9\n"
    )
    assert parse_engine_metrics(page) == EngineMetrics()


def test_a_full_size_page_parses_in_well_under_a_poll_interval() -> None:
    # 64 engines polled every 250 ms: the parse must be a small share of a core.
    rounds = 50
    started = time.perf_counter()
    for _ in range(rounds):
        parse_engine_metrics(REAL_PAGE)
    per_page_ms = (time.perf_counter() - started) / rounds * 1000
    print(f"parse of a {len(REAL_PAGE)} byte page: {per_page_ms:.3f} ms")
    assert per_page_ms < 3.0
