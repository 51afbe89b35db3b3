"""The processes of `make run` under one supervisor: started as their own sessions, their output
prefixed with their names, and stopped in order when the runner is told to stop (Ctrl-C,
SIGTERM, SIGHUP of a closed terminal) or when one of them exits by itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import psutil

from worker import processes

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Console:
    """Line output that survives a closed terminal: after SIGHUP writes fail (EIO), and the
    runner must still drain its children's pipes and stop them in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._broken = False

    def say(self, line: str) -> None:
        with self._lock:
            if self._broken:
                return
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (OSError, ValueError):
                self._broken = True
                _discard_output()


def _discard_output() -> None:
    """The terminal is gone: every later write of this process (its own prints, library logs,
    the flush at exit) goes to /dev/null instead of failing half-way through the stop."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


@dataclass
class Child:
    name: str
    popen: subprocess.Popen[bytes]
    process: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.process = psutil.Process(self.popen.pid)


class Supervisor:
    def __init__(self, console: Console, cwd: Path) -> None:
        self.console = console
        self.cwd = cwd
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self.reason = ""

    def start(self, name: str, command: str, env: dict[str, str]) -> None:
        child = Child(name, processes.spawn(command, env, self.cwd))
        self.children.append(child)
        threading.Thread(target=self._pump, args=(child,), daemon=True).start()

    def _pump(self, child: Child) -> None:
        stream = child.popen.stdout
        assert stream is not None
        for raw in iter(stream.readline, b""):
            stamp = time.strftime("%H:%M:%S")
            text = raw.decode(errors="replace").rstrip()
            self.console.say(f"{stamp} {child.name:<10} | {text}")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested.is_set():
            self.console.say("already stopping: every process gets a bounded wait, then SIGKILL")
            return
        self.reason = signal.Signals(signum).name
        self.stop_requested.set()

    def install_signal_handlers(self) -> None:
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)

    def wait(self, on_tick: Callable[[], None] | None = None) -> int:
        """Until a stop signal or a child's own exit; then everything stops. Exit status: 0 on a
        requested stop, 1 when a process ended by itself."""
        failed: Child | None = None
        while not self.stop_requested.wait(0.5):
            failed = next((c for c in self.children if c.popen.poll() is not None), None)
            if failed is not None:
                code = failed.popen.returncode
                self.reason = f"{failed.name} exited with status {code}"
                break
            if on_tick is not None:
                on_tick()
        self.stop()
        return 0 if failed is None else 1

    def stop(self) -> None:
        self.console.say(
            f"\nStopping ({self.reason}): web and beat, then workers, then the database"
        )
        started = time.monotonic()
        services = [(c.name, c.process) for c in self.children if c.popen.poll() is None]
        processes.stop_in_order(services, self.console.say)
        for child in self.children:
            child.popen.wait()
        self.console.say(f"all processes stopped in {time.monotonic() - started:.1f} s")
