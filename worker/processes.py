"""Processes of one run of the platform: how they are started, recognised and stopped.

Each process the runner starts leads its own session (so the terminal's Ctrl-C reaches only the
runner, which then stops everything in order) and gets SIGTERM from the kernel if the runner
dies (``PR_SET_PDEATHSIG``), so even a runner killed with SIGKILL does not leave a platform
running. Every process carries the run's identity in its environment (``STOCKPRED_RUN``, the
run's ``VAR_DIR``), inherited by the processes it starts in turn (uvicorn and Celery pool
workers): that is how a later run finds leftovers of this checkout, and never anything else.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import psutil

RUN_MARKER = "STOCKPRED_RUN"
RUNNER_PID = "STOCKPRED_RUNNER_PID"
SERVICE = "LOG_SERVICE"  # the process's name in the Procfile (and in JSON logs, core/logs.py)

# Stopped first, so nothing new comes in while the workers finish: the web server, the beat
# scheduler (no new cycles) and Prometheus. The workers follow, then the database.
FRONT = frozenset({"web", "beat", "prometheus"})
FRONT_WAIT_S = 8.0
# Workers get SIGQUIT: Celery's cold shutdown, after CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT lets a
# running task finish, hands unfinished (acks-late) tasks back to the broker for redelivery.
WORKER_WAIT_S = 15.0
KILL_WAIT_S = 3.0
_PR_SET_PDEATHSIG = 1

Say = Callable[[str], None]


def pid_alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def _die_with(parent: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # The stop signals must work even if the runner inherited them ignored (a background
        # job of a non-interactive shell ignores SIGINT and SIGQUIT).
        for sig in (signal.SIGINT, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        if os.getppid() != parent:  # the runner died before prctl took effect
            os._exit(1)

    return setup


def spawn(command: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """A Procfile command (shell syntax: ``VAR=x prog ${PORT:-8000}``) as its own session,
    ``exec``'d so the signals reach the program itself and not a shell in front of it."""
    return subprocess.Popen(
        ["/bin/sh", "-c", f"exec env {command}"],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with(os.getpid()),
    )


def stop_in_order(services: Sequence[tuple[str, psutil.Process]], say: Say) -> None:
    """Front processes (SIGTERM), then workers (SIGQUIT), each with a bounded wait before
    SIGKILL to the whole process group, so no grandchild outlives its parent."""
    front = [(name, p) for name, p in services if name in FRONT]
    back = [(name, p) for name, p in services if name not in FRONT]
    _signal_and_wait(front, signal.SIGTERM, FRONT_WAIT_S, say)
    _signal_and_wait(back, signal.SIGQUIT, WORKER_WAIT_S, say)


def _signal_and_wait(
    services: Sequence[tuple[str, psutil.Process]], sig: int, wait_s: float, say: Say
) -> None:
    if not services:
        return
    groups = set()
    for _, process in services:
        with contextlib.suppress(psutil.Error, OSError):
            groups.add(os.getpgid(process.pid))
            process.send_signal(sig)
    _, alive = psutil.wait_procs([p for _, p in services], timeout=wait_s)
    for name, process in services:
        if process in alive:
            say(f"{name} (pid {process.pid}) did not stop within {wait_s:.0f} s: killed")
    for group in groups:
        _kill_group(group)
    psutil.wait_procs(alive, timeout=KILL_WAIT_S)


def _kill_group(group: int) -> None:
    if group in (0, 1, os.getpgrp()):
        return  # never our own group or init's
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def marked(identity: str) -> list[psutil.Process]:
    """Every process of the run ``identity`` still alive (this process excluded)."""
    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.environ().get(RUN_MARKER) == identity:
                found.append(process)
        except psutil.Error:  # gone, a zombie, or not ours to read
            continue
    return found


def service_of(process: psutil.Process) -> str:
    try:
        return str(process.environ().get(SERVICE, "?"))
    except psutil.Error:
        return "?"


def runner_of(processes: Iterable[psutil.Process]) -> int | None:
    """The pid of a live runner that started these processes, if any."""
    for process in processes:
        try:
            pid = int(process.environ().get(RUNNER_PID, "0"))
        except (psutil.Error, ValueError):
            continue
        if pid and pid_alive(pid) and "worker.run" in _command_line(pid):
            return pid
    return None


def _command_line(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return ""
