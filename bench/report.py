"""Tables and pass/fail checks for the gateway-overhead benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadgen import LoadResult

NON_STREAM = "non-stream"
STREAM = "stream"
DIRECT = "direct"
GATEWAY = "gateway"

MAX_ADDED_P50_MS = 1.0
MIN_GATEWAY_RPS = 1000.0
MIN_GATEWAY_STREAM_RPS = 400.0
MAX_RSS_GROWTH_SHARE = 0.10
MAX_RSS_GROWTH_MIB = 15.0


@dataclass(frozen=True)
class ScenarioRun:
    mode: str
    target: str
    concurrency: int
    result: LoadResult
    gateway_rss_mib: float | None = None
    gateway_cpu_ms_per_req: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "target": self.target,
            "concurrency": self.concurrency,
            **self.result.as_dict(),
            "gateway_rss_mib": self.gateway_rss_mib,
            "gateway_cpu_ms_per_req": self.gateway_cpu_ms_per_req,
        }


@dataclass(frozen=True)
class Check:
    name: str
    want: str
    got: str
    status: str  # PASS, FAIL or SKIP

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "want": self.want, "got": self.got, "status": self.status}


def find(runs: list[ScenarioRun], mode: str, target: str, concurrency: int) -> ScenarioRun | None:
    for run in runs:
        if (run.mode, run.target, run.concurrency) == (mode, target, concurrency):
            return run
    return None


COLUMNS = (
    ("scenario", "<10"),
    ("target", "<7"),
    ("conc", ">4"),
    ("requests", ">8"),
    ("errors", ">6"),
    ("req/s", ">8"),
    ("p50 ms", ">7"),
    ("p99 ms", ">7"),
    ("p50 TTFC ms", ">11"),
    ("+p50 ms", ">7"),
    ("+p99 ms", ">7"),
    ("gw/direct", ">9"),
    ("gw CPU ms/req", ">13"),
)


def _row(cells: list[str]) -> str:
    return "  ".join(f"{cell:{spec}}" for cell, (_, spec) in zip(cells, COLUMNS, strict=True))


def _comparison(run: ScenarioRun, direct: ScenarioRun | None) -> list[str]:
    if run.target != GATEWAY or direct is None:
        return ["", "", ""]
    ratio = run.result.rps / direct.result.rps if direct.result.rps else 0.0
    return [
        f"{run.result.p50_ms - direct.result.p50_ms:+.3f}",
        f"{run.result.p99_ms - direct.result.p99_ms:+.3f}",
        f"{ratio:.3f}",
    ]


def format_table(runs: list[ScenarioRun]) -> str:
    lines = [_row([name for name, _ in COLUMNS])]
    lines.append("-" * len(lines[0]))
    for run in runs:
        r = run.result
        direct = find(runs, run.mode, DIRECT, run.concurrency)
        cpu = run.gateway_cpu_ms_per_req
        cells = [
            run.mode,
            run.target,
            str(run.concurrency),
            str(r.count),
            str(r.errors),
            f"{r.rps:.0f}",
            f"{r.p50_ms:.3f}",
            f"{r.p99_ms:.3f}",
            f"{r.ttfc_p50_ms:.3f}",
            *_comparison(run, direct),
            "" if cpu is None else f"{cpu:.3f}",
        ]
        lines.append(_row(cells))
    return "\n".join(lines)


def format_rss(rss_mib: dict[str, float]) -> str:
    lines = ["gateway RSS (MiB):"]
    lines.extend(f"  {phase:<28} {mib:8.1f}" for phase, mib in rss_mib.items())
    return "\n".join(lines)


def _status(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _skip(name: str, want: str) -> Check:
    return Check(name, want, "not measured", "SKIP")


def check_added_latency(runs: list[ScenarioRun]) -> Check:
    name, want = "added p50 latency, non-stream, c=1", f"<= {MAX_ADDED_P50_MS:.1f} ms"
    gateway = find(runs, NON_STREAM, GATEWAY, 1)
    direct = find(runs, NON_STREAM, DIRECT, 1)
    if gateway is None or direct is None:
        return _skip(name, want)
    added = gateway.result.p50_ms - direct.result.p50_ms
    return Check(name, want, f"{added:.3f} ms", _status(added <= MAX_ADDED_P50_MS))


def check_throughput(runs: list[ScenarioRun], mode: str, minimum: float) -> Check:
    name, want = f"gateway req/s, {mode}, c=32", f">= {minimum:.0f}"
    run = find(runs, mode, GATEWAY, 32)
    if run is None:
        return _skip(name, want)
    return Check(name, want, f"{run.result.rps:.0f}", _status(run.result.rps >= minimum))


def check_rss(baseline_mib: float | None, end_mib: float | None) -> Check:
    name = "gateway RSS growth, warm-up to end"
    want = f"< {MAX_RSS_GROWTH_SHARE:.0%} or < {MAX_RSS_GROWTH_MIB:.0f} MiB"
    if baseline_mib is None or end_mib is None or baseline_mib <= 0:
        return _skip(name, want)
    growth = end_mib - baseline_mib
    ok = growth < MAX_RSS_GROWTH_MIB or growth / baseline_mib < MAX_RSS_GROWTH_SHARE
    got = f"{growth:+.1f} MiB ({growth / baseline_mib:+.1%})"
    return Check(name, want, got, _status(ok))


def check_errors(runs: list[ScenarioRun]) -> Check:
    errors = sum(run.result.errors for run in runs)
    return Check("failed requests, all scenarios", "0", str(errors), _status(errors == 0))


def evaluate(
    runs: list[ScenarioRun], rss_baseline_mib: float | None, rss_end_mib: float | None
) -> list[Check]:
    return [
        check_added_latency(runs),
        check_throughput(runs, NON_STREAM, MIN_GATEWAY_RPS),
        check_throughput(runs, STREAM, MIN_GATEWAY_STREAM_RPS),
        check_rss(rss_baseline_mib, rss_end_mib),
        check_errors(runs),
    ]


def format_checks(checks: list[Check]) -> str:
    width = max(len(check.name) for check in checks)
    lines = [f"  {c.status:<4}  {c.name:<{width}}  {c.got:>24}  (want {c.want})" for c in checks]
    verdict = "PASS" if all(c.status != "FAIL" for c in checks) else "FAIL"
    return "\n".join(["targets:", *lines, f"overall: {verdict}"])
