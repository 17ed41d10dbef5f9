"""README's first command, run in a fresh clone with a new virtual environment, works.

(The second command is what CI runs, in a fresh clone of its own.) This installs everything
from the package index into a new environment, so it takes a few minutes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
from openai import OpenAI

from tests.helpers import free_port, wait_for

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]


def test_command_one_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    port, engine_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("LORAGATE_")} | {
        "LORAGATE_VENV": str(tmp_path / "venv"),
        "LORAGATE_DATA_DIR": str(tmp_path / "data"),
        "LORAGATE_PORT": str(port),
        "LORAGATE_ENGINE__PORT": str(engine_port),
        "PATH": os.environ["PATH"].replace(str(REPO / ".venv" / "bin") + os.pathsep, ""),
        "VIRTUAL_ENV": "",
    }
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        ["scripts/up.sh"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/ready", timeout_s=1200, proc=proc)
        admin_key = (tmp_path / "data" / "admin.key").read_text().strip()  # written by up
        client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=admin_key)
        assert [m.id for m in client.models.list().data] == ["loragate-tiny"]
        reply = client.chat.completions.create(
            model="loragate-tiny", messages=[{"role": "user", "content": "hi"}], max_tokens=3
        )
        assert reply.usage is not None
        assert reply.usage.completion_tokens == 3
        children = [int(p.read_text()) for p in (tmp_path / "data" / "run").glob("*.pid")]
        assert len(children) == 3  # the engine, the gateway and the worker
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        shutil.rmtree(tmp_path / "venv", ignore_errors=True)
    assert code == 0, (tmp_path / "up.log").read_text()
    assert not list((tmp_path / "data" / "run").glob("*.pid"))
    alive = [pid for pid in children if _alive(pid)]
    assert not alive, f"Ctrl-C left processes running: {alive}"


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
