"""The stub's fleet parts: ``--extra-ports N`` makes it N more engines on the next ports,
each with a real vLLM ``/metrics`` page and adapters of its own in ``/v1/models``.
(``fleet_setup.py`` is the other side: the benchmark that starts such a stub.)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_fleet_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--extra-ports", type=int, default=0, help="more engines, next ports")
    parser.add_argument("--metrics-page", type=Path, help="served at /metrics on every port")
    parser.add_argument("--adapters-per-port", type=int, default=0, help="in each /v1/models")


def metrics_page(args: argparse.Namespace) -> bytes:
    """The page every port serves at ``/metrics`` (empty without ``--metrics-page``)."""
    page: Path | None = args.metrics_page
    return page.read_bytes() if page else b""


def models_per_port(args: argparse.Namespace, base_body: bytes) -> list[bytes]:
    """The ``/v1/models`` body of each port, the first (``--port``) first."""
    ports = range(args.extra_ports + 1)
    return [fleet_models(base_body, i, args.adapters_per_port) for i in ports]


def fleet_models(base_body: bytes, port_index: int, adapters: int) -> bytes:
    """A stub engine's /v1/models: the base model, and past the first port ``adapters``
    adapters of its own (names never repeat across ports)."""
    if port_index == 0 or adapters <= 0:
        return base_body
    body = json.loads(base_body)
    base = body["data"][0]
    for i in range(adapters):
        name = f"ft:stub-model:p{port_index}a{i}:ftjob-bench"
        body["data"].append({**base, "id": name, "root": name, "parent": base["id"]})
    return json.dumps(body).encode()
