"""Child processes that must keep running: started, watched, restarted with backoff, stopped.

``loragate up`` supervises the engine, the gateway and (later) the worker with this. Each
child gets its own process group, so stopping it also stops what it spawned (vLLM starts
engine-core processes), and dies with the supervisor even if the supervisor is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("loragate.supervisor")

_PR_SET_PDEATHSIG = 1
_AUTOGROUP = "/proc/self/autogroup"


@dataclass
class ProcessSpec:
    """What to run and how to treat it."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    pid_path: Path
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    healthy_after_s: float = 60.0  # a run this long resets the backoff
    stop_timeout_s: float = 15.0
    niceness: int = 0
    """Added to the child's CPU niceness (the engines run at a lower priority)."""
    nice_autogroup: bool = True
    """Apply ``niceness`` to the child's session (its autogroup) as well: see lower_priority."""


@dataclass
class ProcessState:
    pid: int | None = None
    restarts: int = 0
    started_at: float | None = None
    last_exit: int | None = None
    history: list[str] = field(default_factory=list)


def lower_priority(niceness: int, autogroup: bool = True) -> None:
    """Make this process (and what it starts) ``niceness`` steps nicer, autogroup included.

    With the kernel's autogroup scheduling on (``kernel.sched_autogroup_enabled``, the
    default of most desktop and many server kernels), the CPU is shared fairly between
    sessions first and by niceness only inside a session. Every child has its own session,
    so a plain ``nice`` would change nothing against the gateway: the session's autogroup
    must be made nicer too. Where autogroups are off or absent, the file is ignored.
    """
    os.nice(niceness)
    if autogroup:
        with contextlib.suppress(OSError), open(_AUTOGROUP, "w") as group:
            group.write(str(niceness))


def _child_setup(niceness: int, autogroup: bool) -> Callable[[], None]:
    def setup() -> None:  # runs in the child, after setsid() and before exec
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if niceness:
            lower_priority(niceness, autogroup)

    return setup


class SupervisedProcess:
    """One child process, restarted whenever it exits until :meth:`stop` is called."""

    def __init__(self, spec: ProcessSpec, on_event: Callable[[str, str], None]) -> None:
        self.spec = spec
        self.state = ProcessState()
        self._on_event = on_event
        self._proc: asyncio.subprocess.Process | None = None
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever(), name=f"supervise-{self.spec.name}")

    async def _spawn(self) -> asyncio.subprocess.Process:
        self.spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.spec.pid_path.parent.mkdir(parents=True, exist_ok=True)
        with self.spec.log_path.open("ab") as log_file:
            proc = await asyncio.create_subprocess_exec(
                *self.spec.argv,
                env=self.spec.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup(self.spec.niceness, self.spec.nice_autogroup),
            )
        self.spec.pid_path.write_text(str(proc.pid))
        self.state.pid = proc.pid
        self.state.started_at = time.monotonic()
        self._on_event(self.spec.name, f"started (pid {proc.pid}), log: {self.spec.log_path}")
        return proc

    async def _run_forever(self) -> None:
        backoff = self.spec.backoff_initial_s
        while not self._stopping.is_set():
            self._proc = await self._spawn()
            code = await self._proc.wait()
            _kill_group(self._proc.pid, signal.SIGKILL)  # orphans of a crashed child
            self.state.last_exit = code
            if self._stopping.is_set():
                break
            ran_for = time.monotonic() - (self.state.started_at or 0.0)
            if ran_for >= self.spec.healthy_after_s:
                backoff = self.spec.backoff_initial_s
            self.state.restarts += 1
            self._on_event(self.spec.name, f"exited with {code}; restarting in {backoff:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=backoff)
            backoff = min(backoff * 2, self.spec.backoff_max_s)
        self.spec.pid_path.unlink(missing_ok=True)

    async def stop(self) -> None:
        """SIGTERM the child's group, then SIGKILL after ``stop_timeout_s``."""
        self._stopping.set()
        proc = self._proc
        if proc is not None and proc.returncode is None:
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=self.spec.stop_timeout_s)
            except TimeoutError:
                _kill_group(proc.pid, signal.SIGKILL)
                await proc.wait()
        if self._task is not None:
            await self._task
        self._on_event(self.spec.name, "stopped")


def _kill_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
