"""The Grafana boards of architecture section 10.2 (deploy/grafana/): well-formed, on the
provisioned datasource, every query valid PromQL (parsed by promtool) on documented metrics."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from worker.prometheus import ALERTS

ROOT = Path(__file__).resolve().parents[2]
BOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
DOC = (ROOT / "docs" / "metrics.md").read_text()


def boards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(BOARDS.glob("*.json"))}


def expressions() -> list[str]:
    return [t["expr"] for b in boards().values() for p in b["panels"] for t in p["targets"]]


def test_it_provisions_both_boards_on_the_prometheus_datasource() -> None:
    source = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    found = boards()
    assert set(found) == {"system-health.json", "model-performance.json"}
    for board in found.values():
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert panel["targets"] and panel["datasource"]["uid"] == uid
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "stockpred.yml").read_text())
    assert provider["providers"][0]["options"]["path"].endswith("deploy/grafana/dashboards")


def test_it_shows_what_the_architecture_boards_show() -> None:
    titles = {b: " | ".join(p["title"] for p in v["panels"]) for b, v in boards().items()}
    for wanted in (
        "Overall status",
        "Predictions updated",
        "Last update",
        "Ingestion",
        "Feature store",
        "Normal-day model",
        "Earnings-day model",
        "API",
        "Redis",
        "PostgreSQL",
        "Queue lag",
        "API response time p50/p95/p99",
        "Predictions generated per minute",
    ):
        assert wanted in titles["system-health.json"], wanted
    for wanted in ("MAE (24h)", "MAE (30d)", "predictions made", "MAE trend", "coverage"):
        assert wanted in titles["model-performance.json"], wanted


def test_it_queries_only_documented_metrics() -> None:
    rules = ALERTS.read_text()
    for expr in expressions():
        for name in re.findall(r"\bstockpred[_:][A-Za-z0-9_:]+", expr):
            base = re.sub(r"_(bucket|count|sum|total)$", "", name)
            assert f"`{base}" in DOC or f"`{name}`" in DOC or f"record: {name}" in rules, name


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool absent: make prometheus")
def test_it_writes_valid_promql(tmp_path: Path) -> None:
    rules = [{"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(expressions())]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
