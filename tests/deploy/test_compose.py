"""The compose file parses, matches the Compose Specification's schema, and hangs together."""

from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml

from tests.deploy.queries import DEPLOY

COMPOSE = DEPLOY / "docker-compose.yml"
SERVICES = {"engine", "gateway", "worker", "redis", "postgres", "prometheus", "grafana"}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _docker_compose_works() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


def test_matches_the_compose_spec_schema() -> None:
    """The Compose Specification's JSON schema, as the check-jsonschema package ships it."""
    schema = ["--builtin-schema", "vendor.compose-spec"]
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", *schema, "--", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not _docker_compose_works(), reason="no `docker compose` on this machine")
def test_docker_compose_config() -> None:
    done = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_services_and_what_they_mount_exist() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), (name, volume)
            else:
                assert source in compose()["volumes"], (name, volume)
    build = services["gateway"]["build"]
    assert (DEPLOY / build["context"] / "deploy" / "Dockerfile.cpu").is_file()
    assert (DEPLOY / "Dockerfile.cuda").is_file()


def test_prometheus_scrapes_the_compose_services() -> None:
    services = compose()["services"]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert targets == {"loragate-gateway": ["gateway:8000"], "vllm": ["engine:8001"]}
    assert "--port 8001" in " ".join(services["engine"]["command"])
    assert services["engine"]["environment"]["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    assert '"http://engine:8001"' in services["gateway"]["environment"]["LORAGATE_UPSTREAMS"]


@pytest.mark.parametrize("dockerfile", ["Dockerfile.cpu", "Dockerfile.cuda"])
def test_dockerfiles_copy_what_exists(dockerfile: str) -> None:
    root = DEPLOY.parent
    lines = (DEPLOY / dockerfile).read_text().splitlines()
    assert any(line.startswith("FROM ") for line in lines)
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:  # --from: an earlier stage's
            for source in line.split()[1:-1]:
                assert (root / source).exists(), line
    text = "\n".join(lines)
    assert ".[cpu]" in text if dockerfile.endswith("cpu") else ".[gpu]" in text
