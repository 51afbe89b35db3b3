"""`make run`: services up, bootstrap (migrate, data, models, operator), then every process of
worker/Procfile under honcho until Ctrl-C, which stops them all and the embedded database."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import sys
from pathlib import Path
from types import FrameType

from worker import prometheus
from worker.services import platform_services

BASE_DIR = Path(__file__).resolve().parent.parent
PROCFILE = BASE_DIR / "worker" / "Procfile"


def procfile_entries(path: Path = PROCFILE) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if match:
            entries.append((match.group(1), match.group(2)))
    return entries


def process_env(name: str) -> dict[str, str]:
    """Each process names itself in the logs; the web server's uvicorn workers share their
    metrics through a directory emptied at every start (prometheus_client multiprocess mode)."""
    env = dict(os.environ)
    env.setdefault("LOG_SERVICE", name)  # the "service" of JSON log lines (core/logs.py)
    if name == "web":
        metrics_dir = BASE_DIR / "var" / "metrics" / "web"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return env


def prometheus_command() -> str | None:
    """Debian's Prometheus with deploy/prometheus/, scraping this run's web port."""
    if prometheus.binary() is None:
        return None
    web = f"127.0.0.1:{os.environ.get('PORT', '8000')}"
    config = prometheus.render_config(BASE_DIR / "var" / "prometheus", web_target=web)
    return shlex.join(prometheus.command(config))


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Same path as Ctrl-C, so a supervisor's `kill` also stops the processes and the database.
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    venv_bin = str(Path(sys.executable).parent)
    os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    with platform_services():
        import django
        from django.core.management import call_command

        django.setup()
        call_command("bootstrap")
        from honcho.manager import Manager
        from honcho.printer import Printer

        manager = Manager(Printer(sys.stdout))
        for name, command in procfile_entries():
            manager.add_process(name, command, cwd=str(BASE_DIR), env=process_env(name))
        prometheus_line = prometheus_command()
        if prometheus_line:
            manager.add_process("prometheus", prometheus_line, cwd=str(BASE_DIR))
            print(f"\nPrometheus: http://{prometheus.DEFAULT_LISTEN} (alerts: /alerts)")
        else:
            print("\nPrometheus is not installed (`make prometheus`); metrics stay at /metrics.")
        port = os.environ.get("PORT", "8000")
        print(f"\nPlatform starting: http://127.0.0.1:{port}  (admin: /admin/, health: /healthz)")
        print("Ctrl-C stops every process.\n")
        manager.loop()
        return manager.returncode or 0


def run() -> int:
    try:
        return main()
    except KeyboardInterrupt:
        print("\nStopped.")
        return 130


if __name__ == "__main__":
    sys.exit(run())
