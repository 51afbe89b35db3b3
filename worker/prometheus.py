"""The real Prometheus (Debian's ``prometheus`` binary) with the project's configuration.

``deploy/prometheus/prometheus.yml`` names the default ports; ``render_config`` writes a copy
under a run directory with the targets actually in use (web port, worker metrics ports) and the
rule file by absolute path, and ``command`` is the line that runs it. ``make run`` and the tests
both go through here.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

DEPLOY_DIR = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"
CONFIG = DEPLOY_DIR / "prometheus.yml"
ALERTS = DEPLOY_DIR / "alerts.yml"
DEFAULT_LISTEN = "127.0.0.1:9090"


def binary() -> str | None:
    return shutil.which("prometheus")


def render_config(
    run_dir: Path,
    *,
    web_target: str,
    worker_targets: dict[str, str] | None = None,
    scrape_interval: str | None = None,
) -> Path:
    """Write ``prometheus.yml`` into ``run_dir`` scraping ``web_target`` and, when given,
    ``worker_targets`` (worker name -> host:port; default: the file's own)."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    config["rule_files"] = [str(ALERTS)]
    if scrape_interval:
        config["global"]["scrape_interval"] = scrape_interval
        config["global"]["evaluation_interval"] = scrape_interval
    for job in config["scrape_configs"]:
        if job["job_name"] == "web":
            job["static_configs"] = [{"targets": [web_target]}]
        elif job["job_name"] == "workers" and worker_targets is not None:
            job["static_configs"] = [
                {"targets": [target], "labels": {"worker": name}}
                for name, target in worker_targets.items()
            ]
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def command(config_path: Path, listen: str = DEFAULT_LISTEN) -> list[str]:
    prometheus = binary()
    if prometheus is None:
        raise FileNotFoundError("prometheus is not installed (make prometheus)")
    data = config_path.parent / "data"
    return [
        prometheus,
        f"--config.file={config_path}",
        f"--storage.tsdb.path={data}",
        f"--web.listen-address={listen}",
        "--storage.tsdb.retention.time=15d",
        "--log.level=warn",
    ]
