"""Real objects for the fuzzer to find: without them every id it makes up is a 404 and the
routes' own logic is never reached. Schemathesis is told (a config file of dictionaries)
to use them for half of the ids and model names it sends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.trainer.jobs.helpers import write_reviews


@dataclass
class Targets:
    files: list[str] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)


def make_targets(base_url: str, headers: dict[str, str], work: Path, models: list[str]) -> Targets:
    """A dataset, a job made from it (cancelled, so its event stream ends), a user key, and
    the fuzzer's own key (which it must not be able to revoke)."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        data = write_reviews(work / "reviews.jsonl", 12).read_bytes()
        upload = client.post(
            "/v1/files", files={"file": ("reviews.jsonl", data)}, data={"purpose": "fine-tune"}
        )
        upload.raise_for_status()
        file_id = upload.json()["id"]
        job = client.post(
            "/v1/fine_tuning/jobs", json={"model": models[0], "training_file": file_id}
        )
        job.raise_for_status()
        job_id = job.json()["id"]
        client.post(f"/v1/fine_tuning/jobs/{job_id}/cancel").raise_for_status()
        user = client.post("/admin/keys", json={"name": "fuzz-user"})
        user.raise_for_status()
        own = [k["id"] for k in client.get("/admin/keys").json()["data"] if k["name"] == "admin"]
    return Targets([file_id], [job_id], [user.json()["id"], *own], models)


def config_toml(targets: Targets, probability: float = 0.5) -> str:
    """Schemathesis's config: each id or model name is a real one with ``probability``."""
    dictionaries = {
        "files": targets.files,
        "jobs": targets.jobs,
        "keys": targets.keys,
        "models": targets.models,
    }
    bindings = {
        "path.file_id": "files",
        "path.job_id": "jobs",
        "path.key_id": "keys",
        "path.model": "models",
        "body.model": "models",
        "body.training_file": "files",
    }
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for key, name in bindings.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = {probability} }}')
    return "\n".join(lines) + "\n"
