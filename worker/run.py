"""`make run`: checks, services up, bootstrap (migrate, data, models, operator), then every process
of worker/Procfile under one supervisor until Ctrl-C, SIGTERM or SIGHUP, which stop them in
order (web and beat, then the workers, then the embedded database).

Exit status: 0 after a requested stop, 1 when a process ended by itself, 2 when the platform
cannot start (the message says why), 130 when stopped during bootstrap.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from worker import preflight, processes, prometheus
from worker.services import ServiceError, platform_services
from worker.supervisor import STOP_SIGNALS, Console, Supervisor

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "worker" / "Procfile"
# TensorFlow, XLA and oneDNN print pages of notices at import; the platform's own logs say what
# matters. Set before anything imports them, here and in every process started.
QUIET_LIBRARIES = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "GRPC_VERBOSITY": "ERROR",
    "GLOG_minloglevel": "3",
    "PYTHONWARNINGS": "ignore::DeprecationWarning,ignore::FutureWarning",
}


def procfile_entries(path: Path = PROCFILE) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if match:
            entries.append((match.group(1), match.group(2)))
    return entries


def run_identity() -> str:
    """What makes a run this checkout's: its var directory (tests give theirs another)."""
    return str(Path(os.environ.get("VAR_DIR") or BASE_DIR / "var").resolve())


def process_env(name: str) -> dict[str, str]:
    """Each process names itself in the logs and carries the run's identity; the web server's
    uvicorn workers share their metrics through a directory emptied at every start
    (prometheus_client multiprocess mode)."""
    env = dict(os.environ)
    env[processes.SERVICE] = name  # the "service" of JSON log lines (core/logs.py)
    env[processes.RUN_MARKER] = run_identity()
    env[processes.RUNNER_PID] = str(os.getpid())
    if name == "web":
        metrics_dir = Path(run_identity()) / "metrics" / "web"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return env


def prometheus_command() -> str | None:
    """Debian's Prometheus with deploy/prometheus/, scraping this run's web port."""
    if prometheus.binary() is None:
        return None
    web = f"127.0.0.1:{port()}"
    config = prometheus.render_config(Path(run_identity()) / "prometheus", web_target=web)
    return shlex.join(prometheus.command(config))


def port() -> int:
    return int(os.environ.get("PORT", "8000"))


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Until the processes run (bootstrap), any stop signal behaves as Ctrl-C.
    raise KeyboardInterrupt


def prepare_environment() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    for key, value in QUIET_LIBRARIES.items():
        os.environ.setdefault(key, value)
    venv_bin = str(Path(sys.executable).parent)
    os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")


def preflight_checks(console: Console) -> None:
    preflight.check_data_folder()
    preflight.end_leftovers(run_identity(), console.say)
    preflight.check_port(port())


def bootstrap(console: Console) -> None:
    if os.environ.get("RUN_BOOTSTRAP", "1") == "0":
        console.say("bootstrap skipped (RUN_BOOTSTRAP=0)")
        return
    import django
    from django.core.management import call_command

    django.setup()
    log = Path(run_identity()) / "bootstrap.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    console.say(f"bootstrap (library notices and command reports go to {log})")
    with stderr_to(log):
        call_command("bootstrap")


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Native libraries (TensorFlow's oneDNN and absl lines) write straight to file descriptor 2,
    past Python's logging: during bootstrap that descriptor goes to the log file. A traceback is
    printed after the descriptor is restored, so errors still reach the terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def start_processes(supervisor: Supervisor) -> None:
    procfile = Path(os.environ.get("RUN_PROCFILE") or PROCFILE)
    for name, command in procfile_entries(procfile):
        supervisor.start(name, command, process_env(name))
    prometheus_line = prometheus_command() if procfile == PROCFILE else None
    if prometheus_line:
        supervisor.start("prometheus", prometheus_line, process_env("prometheus"))


class ReadyNotice:
    """The last lines of the start: where everything is, once the web server answers."""

    def __init__(self, console: Console, started: float) -> None:
        self.console, self.started, self.done = console, started, False

    def __call__(self) -> None:
        if self.done:
            return
        try:  # accepting connections is enough: /healthz also waits on the workers
            socket.create_connection(("127.0.0.1", port()), timeout=0.5).close()
        except OSError:
            return
        self.done = True
        base = f"http://127.0.0.1:{port()}"
        self.console.say(ready_text(base, time.monotonic() - self.started))


def ready_text(base: str, seconds: float) -> str:
    prometheus_line = (
        f"\n  Prometheus  http://{prometheus.DEFAULT_LISTEN}  (alerts: /alerts)"
        if prometheus.binary()
        else "\n  Prometheus  not installed (`make prometheus`)"
    )
    credentials = Path(run_identity()) / "operator_credentials.txt"
    return (
        f"\nThe platform is up ({seconds:.0f} s after start):\n"
        f"  site        {base}/\n"
        f"  admin       {base}/admin/  (operator credentials: {credentials})\n"
        f"  API docs    {base}/api/docs\n"
        f"  health      {base}/healthz\n"
        f"  metrics     {base}/metrics{prometheus_line}\n"
        "Ctrl-C stops every process and the embedded database.\n"
    )


def main(console: Console) -> int:
    started = time.monotonic()
    # Explicitly: a process started in the background by a non-interactive shell inherits
    # SIGINT ignored, and Python then leaves it ignored (Ctrl-C would do nothing).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in STOP_SIGNALS[1:]:
        signal.signal(sig, _interrupt)
    prepare_environment()
    preflight_checks(console)
    with platform_services():
        bootstrap(console)
        supervisor = Supervisor(console, BASE_DIR)
        supervisor.install_signal_handlers()
        start_processes(supervisor)
        console.say(f"\nStarted {len(supervisor.children)} processes; waiting for the web server")
        return supervisor.wait(on_tick=ReadyNotice(console, started))


def run() -> int:
    console = Console()
    try:
        return main(console)
    except (preflight.PreflightError, ServiceError) as error:
        console.say(f"\n{error}")
        return 2
    except KeyboardInterrupt:
        console.say("\nStopped.")
        return 130


if __name__ == "__main__":
    sys.exit(run())
