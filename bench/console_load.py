"""Console benchmark: (1) each console page's first load in headless Chromium, the job page
with 10,000 loss points included; (2) what 50 plain HTTP clients polling job-page data do to
the completion path, measured with bench/gateway_overhead.py's load, with and without them.

    python bench/console_load.py [--points 10000] [--repeats 3] [--pollers 50]
        [--requests 1000] [--rounds 2] [--nice 0] [--skip-pages] [--skip-pollers] [--json out.json]

A gateway (one uvicorn worker) runs in front of the stub upstream, as in gateway_overhead;
its job store gets a running job with ``--points`` train-loss points (and an eval every 20),
which gains a point a second while the pollers part runs (with and without pollers).
Pages: a fresh browser context per load (cold cache; the key put in sessionStorage as a
signed-in tab has it); "load" is navigation start to the load event, "shown" is until the
page's data is on screen. Exit 0 when every target is met, 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import gateway_overhead as overhead
from procs import ServerProcess
from report import DIRECT, GATEWAY, NON_STREAM, STREAM, ScenarioRun, find

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from gateway.auth.keys import open_key_store  # noqa: E402
from gateway.settings import Settings  # noqa: E402
from trainer.jobs.spec import JobSpec  # noqa: E402
from trainer.jobs.states import new_id  # noqa: E402
from trainer.jobs.store import Store, now  # noqa: E402
from trainer.jobs.tables import EventRow, JobRow  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
MAX_LOAD_MS = 1000.0
MAX_ADDED_P50_MS = 1.0
MIN_THROUGHPUT_RATIO = 0.9
POLL_CPU_WINDOW_S = 10.0
OWNER = "bench"  # gateway_overhead's user key belongs to this user


def seed_job(data_dir: Path, points: int) -> str:
    """A running job of OWNER's with ``points`` train-loss points and an eval every 20."""
    store = Store(Settings(data_dir=data_dir).job_database_url)
    job = JobRow(
        id=new_id("ftjob"),
        status="running",
        model=overhead.MODEL,
        training_file="file-bench",
        suffix="bench",
        seed=0,
        hyperparameters=JobSpec().model_dump(),
        created_at=now() - 600,
        attempts=1,
        owner=OWNER,
        started_at=now() - 590,
    )
    store.jobs.create(job)
    rows = []
    for step in range(1, points + 1):
        data = {"step": step, "total_steps": points, "train_loss": 3.0 / (1 + step / 500)}
        rows.append(_event(job.id, f"Step {step}/{points}", data))
        if step % 20 == 0:
            rows.append(
                _event(job.id, f"Step {step}: eval", {**data, "eval_loss": 3.1 / (1 + step / 500)})
            )
    with store.db.session() as session, session.begin():
        session.add_all(rows)
    store.close()
    return job.id


def _event(job_id: str, message: str, data: dict[str, Any]) -> EventRow:
    return EventRow(id=new_id("ftevent"), job_id=job_id, created_at=now(), level="info",
                    type="metrics", message=message, data=data)  # fmt: skip


class JobProgress(threading.Thread):
    """Appends one train-loss point a second to the job (an eval every 20), as a worker
    does while the job runs, so the viewers' data keeps changing."""

    def __init__(self, data_dir: Path, job_id: str, first_step: int) -> None:
        super().__init__(daemon=True)
        self.store = Store(Settings(data_dir=data_dir).job_database_url)
        self.job_id = job_id
        self.step = first_step
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.step += 1
            data = {"step": self.step, "train_loss": 3.0 / (1 + self.step / 500)}
            self.store.log.event(self.job_id, f"Step {self.step}", type="metrics", data=data)
            if self.step % 20 == 0:
                data["eval_loss"] = 3.1 / (1 + self.step / 500)
                self.store.log.event(self.job_id, "eval", type="metrics", data=data)
        self.store.close()


def admin_key(data_dir: Path) -> str:
    store = open_key_store(Settings(data_dir=data_dir))
    try:
        return store.create("bench-admin", "admin", created_by="bench")[1]
    finally:
        store.close()


def upload_dataset(base_url: str, key: str, tmp: Path) -> str:
    import httpx

    from trainer.datasets.reviews import make_review_examples
    from trainer.datasets.writer import write_jsonl

    path = tmp / "reviews.jsonl"
    write_jsonl(make_review_examples(200, seed=0), path)
    with path.open("rb") as handle:
        reply = httpx.post(
            f"{base_url}/v1/files",
            files={"file": handle},
            data={"purpose": "fine-tune"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
    reply.raise_for_status()
    return str(reply.json()["id"])


PAGES: list[tuple[str, str, str]] = [  # name, route, what shows that the data is on screen
    ("overview", "/", "#service-status"),
    ("datasets", "/datasets", "#file-list table"),
    ("dataset", "/datasets/{file}", "#preview .chat"),
    ("fine-tunes", "/jobs", "#job-list table"),
    ("job (10k points)", "/jobs/{job}", "#loss-chart svg polyline"),
    ("playground", "/playground", "#pg-model-a option"),
    ("adapters", "/adapters", "#adapter-list p, #adapter-list table"),
    ("admin", "/admin", "#keys table"),
]


def measure_pages(
    base_url: str, key: str, ids: dict[str, str], repeats: int
) -> list[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        for name, route, ready in PAGES:
            loads, shown = [], []
            for _ in range(repeats):
                context = browser.new_context()  # cold cache, empty storage
                context.add_init_script(
                    f"sessionStorage.setItem('loragate.key', {json.dumps(key)})"
                )
                page = context.new_page()
                page.goto(f"{base_url}/ui/#{route.format(**ids)}", wait_until="load")
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                probe = (
                    f"() => document.querySelector({json.dumps(ready)}) ? performance.now() : false"
                )
                shown.append(float(page.wait_for_function(probe, timeout=30_000).json_value()))
                loads.append(float(nav))
                context.close()
            results.append(
                {
                    "page": name,
                    "load_ms": statistics.median(loads),
                    "shown_ms": statistics.median(shown),
                }
            )
        browser.close()
    return results


def start_pollers(
    base_url: str, key: str, job: str, clients: int, tmp: Path, nice: int
) -> subprocess.Popen[str]:
    """The pollers' process; at niceness ``nice`` it stands for browsers on other machines
    (on one small box its own HTTP client work competes with the gateway)."""
    cmd = [
        *(["nice", "-n", str(nice)] if nice else []),
        sys.executable,
        str(Path(__file__).parent / "console_pollers.py"),
        "--url",
        base_url,
        "--key",
        key,
        "--job",
        job,
        "--clients",
        str(clients),
    ]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, stderr=(tmp / "pollers.log").open("w")
    )


def stop_pollers(proc: subprocess.Popen[str]) -> dict[str, Any]:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    return dict(json.loads(out.strip().splitlines()[-1]))


def overhead_runs(
    opts: overhead.Options, urls: dict[str, str], gateway: ServerProcess
) -> list[ScenarioRun]:
    runs, _ = overhead.measure(opts, urls, gateway)
    return runs


def summary_of(runs: list[ScenarioRun]) -> dict[str, float]:
    def get(mode: str, target: str, c: int, what: str) -> float:
        run = find(runs, mode, target, c)
        return float(getattr(run.result, what)) if run else float("nan")

    return {
        "added_p50_ms_c1": get(NON_STREAM, GATEWAY, 1, "p50_ms")
        - get(NON_STREAM, DIRECT, 1, "p50_ms"),
        "rps_c32": get(NON_STREAM, GATEWAY, 32, "rps"),
        "stream_rps_c32": get(STREAM, GATEWAY, 32, "rps"),
    }


def measure_pollers(
    args: argparse.Namespace,
    opts: overhead.Options,
    urls: dict[str, str],
    gateway: ServerProcess,
    base_url: str,
    job: str,
    tmp: Path,
) -> dict[str, Any]:
    without: list[dict[str, float]] = []
    with_them: list[dict[str, float]] = []
    polls: list[dict[str, Any]] = []
    for round_ in range(args.rounds):
        for pollers_on in [False, True] if round_ % 2 == 0 else [True, False]:
            if not pollers_on:
                without.append(summary_of(overhead_runs(opts, urls, gateway)))
                continue
            proc = start_pollers(base_url, str(opts.api_key), job, args.pollers, tmp, args.nice)
            time.sleep(3)
            with_them.append(summary_of(overhead_runs(opts, urls, gateway)))
            polls.append(stop_pollers(proc))
    return {
        "without": _medians(without),
        "with_pollers": _medians(with_them),
        "pollers": polls,
    }


def poll_cpu(
    args: argparse.Namespace, gateway: ServerProcess, base_url: str, key: str, job: str, tmp: Path
) -> dict[str, Any]:
    """The gateway's CPU per poll: its CPU time over ``POLL_CPU_WINDOW_S`` with the pollers
    and nothing else, less the same window idle (the engine-state poller, the job's
    progress), over the polls made in that window (each of the ``--pollers`` clients polls
    once a second)."""
    idle_from = gateway.cpu_seconds()
    time.sleep(POLL_CPU_WINDOW_S)
    idle = gateway.cpu_seconds() - idle_from
    proc = start_pollers(base_url, key, job, args.pollers, tmp, args.nice)
    time.sleep(3)  # the pollers' process starts and spreads its clients over a second
    busy_from = gateway.cpu_seconds()
    time.sleep(POLL_CPU_WINDOW_S)
    busy = gateway.cpu_seconds() - busy_from
    stats = stop_pollers(proc)
    # each client polls once per interval (1 s) plus its poll's own time
    polls = args.pollers * POLL_CPU_WINDOW_S / (1.0 + stats["p50_ms"] / 1000)
    return {
        "idle_cpu_s": idle,
        "polling_cpu_s": busy,
        "polls_in_window": polls,
        "gateway_cpu_ms_per_poll": (busy - idle) / polls * 1000,
    }


def _medians(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(row[key] for row in rows) for key in rows[0]}


def checks(
    pages: list[dict[str, Any]], pollers: dict[str, Any] | None
) -> list[tuple[str, bool, str]]:
    out = [
        (
            f"{p['page']}: load and shown < {MAX_LOAD_MS:.0f} ms",
            max(p["load_ms"], p["shown_ms"]) < MAX_LOAD_MS,
            f"load {p['load_ms']:.0f} ms, shown {p['shown_ms']:.0f} ms",
        )
        for p in pages
    ]
    if pollers:
        on, off = pollers["with_pollers"], pollers["without"]
        out.append(
            (
                f"added p50 c=1 with pollers <= {MAX_ADDED_P50_MS} ms",
                on["added_p50_ms_c1"] <= MAX_ADDED_P50_MS,
                f"{on['added_p50_ms_c1']:.3f} ms (without: {off['added_p50_ms_c1']:.3f} ms)",
            )
        )
        for key in ("rps_c32", "stream_rps_c32"):
            ratio = on[key] / off[key]
            out.append(
                (
                    f"{key} with/without pollers >= {MIN_THROUGHPUT_RATIO}",
                    ratio >= MIN_THROUGHPUT_RATIO,
                    f"{ratio:.3f} ({on[key]:.0f} vs {off[key]:.0f} req/s)",
                )
            )
    return out


def run(args: argparse.Namespace, tmp: Path, servers: list[ServerProcess]) -> dict[str, Any]:
    opts = overhead.parse_args(["--requests", str(args.requests), "--warmup", "100"])
    opts = replace(opts, api_key=overhead.create_api_key(tmp / "data", {}))
    admin = admin_key(tmp / "data")
    job = seed_job(tmp / "data", args.points)
    stub, stub_port = overhead.start_stub(opts, tmp)
    servers.append(stub)
    stub.wait_ready(stub_port, "/health", opts.ready_timeout_s)
    gateway, port = overhead.start_gateway(opts, tmp, stub_port)
    servers.append(gateway)
    gateway.wait_ready(port, opts.gateway_ready_path, opts.ready_timeout_s)
    base_url = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"points": args.points, "pages": [], "pollers": None}
    if not args.skip_pages:
        file_id = upload_dataset(base_url, admin, tmp)
        result["pages"] = measure_pages(
            base_url, admin, {"file": file_id, "job": job}, args.repeats
        )
    if not args.skip_pollers:
        urls = {
            DIRECT: f"http://127.0.0.1:{stub_port}{overhead.CHAT_PATH}",
            GATEWAY: f"{base_url}{overhead.CHAT_PATH}",
        }
        progress = JobProgress(tmp / "data", job, args.points)
        progress.start()
        try:
            cost = poll_cpu(args, gateway, base_url, str(opts.api_key), job, tmp)
            print(f"gateway CPU per poll: {cost['gateway_cpu_ms_per_poll']:.2f} ms", flush=True)
            result["poll_cpu"] = cost
            if not args.poll_cpu_only:
                result["pollers"] = measure_pollers(args, opts, urls, gateway, base_url, job, tmp)
        finally:
            progress.stop.set()
            progress.join()
    result["checks"] = [
        {"name": n, "ok": ok, "got": got}
        for n, ok, got in checks(result["pages"], result["pollers"])
    ]
    return result


def main() -> int:
    p = argparse.ArgumentParser(description="Console page loads and the cost of job-page pollers.")
    p.add_argument("--points", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pollers", type=int, default=50)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--nice", type=int, default=0, help="niceness of the pollers' process")
    p.add_argument("--skip-pages", action="store_true")
    p.add_argument("--skip-pollers", action="store_true")
    p.add_argument(
        "--poll-cpu-only",
        action="store_true",
        help="of the pollers' part, only the gateway's CPU per poll (not the throughput runs)",
    )
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    servers: list[ServerProcess] = []
    with tempfile.TemporaryDirectory(prefix="loragate-console-bench-") as tmp:
        try:
            result = run(args, Path(tmp), servers)
        finally:
            for server in reversed(servers):
                server.stop()
    for check in result["checks"]:
        print(f"  {'PASS' if check['ok'] else 'FAIL'}  {check['name']}: {check['got']}")
    if result["pollers"]:
        print("pollers:", json.dumps(result["pollers"]["pollers"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if all(c["ok"] for c in result["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
