"""What a supervised child is started with: its priority, its session's included."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from gateway.engine.supervisor import ProcessSpec, SupervisedProcess

REPORT = (
    "import os, pathlib\n"
    "group = pathlib.Path('/proc/self/autogroup')\n"
    "print(os.getpriority(os.PRIO_PROCESS, 0))\n"
    "print(','.join(map(str, sorted(os.sched_getaffinity(0)))))\n"
    "print(group.read_text().split()[-1] if group.exists() else 'none')\n"
)


async def start_and_read(tmp_path: Path, **spec: object) -> list[str]:
    log = tmp_path / "child.log"
    child = SupervisedProcess(
        ProcessSpec(
            name="child",
            argv=[sys.executable, "-c", REPORT + "import time; time.sleep(60)"],
            env=dict(os.environ),
            log_path=log,
            pid_path=tmp_path / "child.pid",
            stop_timeout_s=5,
            **spec,  # type: ignore[arg-type]
        ),
        lambda name, message: None,
    )
    child.start()
    try:
        for _ in range(200):
            lines = log.read_text().split() if log.exists() else []
            if len(lines) == 3:
                return lines
            await asyncio.sleep(0.05)
        raise AssertionError(f"the child reported {lines}")
    finally:
        await child.stop()


async def test_a_nicer_child_is_nicer_in_its_own_session_too(tmp_path: Path) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    priority, _, autogroup = await start_and_read(tmp_path, niceness=5)
    assert int(priority) == min(19, base + 5)
    if autogroup != "none":  # the session's share of the CPU, where autogroups exist
        assert autogroup == "5"


async def test_children_keep_their_priority_unless_told(tmp_path: Path) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    priority, cores, autogroup = await start_and_read(tmp_path)
    assert int(priority) == base
    assert cores == ",".join(map(str, sorted(os.sched_getaffinity(0))))  # no pinning
    assert autogroup in {"0", "none"}


async def test_the_session_can_be_left_as_it_was(tmp_path: Path) -> None:
    base = os.getpriority(os.PRIO_PROCESS, 0)
    priority, _, autogroup = await start_and_read(tmp_path, niceness=5, nice_autogroup=False)
    assert int(priority) == min(19, base + 5)
    assert autogroup in {"0", "none"}  # the old behaviour: niceness inside the session only
