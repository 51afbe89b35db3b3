"""The alert rules of deploy/prometheus/ under Prometheus' own rule unit tester (promtool)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from worker.prometheus import ALERTS, CONFIG, DEPLOY_DIR

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is absent: `make prometheus` installs Debian's prometheus"
)
TESTS = sorted((DEPLOY_DIR / "tests").glob("*.yml"))
# Every threshold of architecture section 10.1, plus coverage and the consistency job.
ALERT_NAMES = [
    "PredictionLatencyP95High",
    "PredictionLatencyP99High",
    "PredictionCacheHitRateLow",
    "InferenceErrorRateHigh",
    "FeatureStale",
    "RedisMemoryHigh",
    "DatabaseConnectionsHigh",
    "QueueLagHigh",
    "ExplanationFailureRateHigh",
    "ModelMaeHigh",
    "ApiErrorRateHigh",
    "IntervalCoverageOutOfRange",
    "PredictionCacheInconsistent",
]


def _promtool(*args: str, cwd: Path = DEPLOY_DIR) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run(
        [PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_it_has_a_valid_configuration_with_the_rules() -> None:
    result = _promtool("check", "config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "19 rules found" in result.stdout


def test_it_passes_the_rule_unit_tests() -> None:
    result = _promtool("test", "rules", *[str(t) for t in TESTS])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(TESTS)


def test_it_tests_every_alert_firing() -> None:
    text = "\n".join(t.read_text() for t in TESTS)
    rules = ALERTS.read_text()
    for name in ALERT_NAMES:
        assert f"alert: {name}" in rules
        # A firing case is one whose expected alerts are not the empty list.
        blocks = text.split(f"alertname: {name}\n")[1:]
        assert any(not b.lstrip().startswith("exp_alerts: []") for b in blocks), name


def test_it_fails_the_unit_tests_when_a_threshold_moves(tmp_path: Path) -> None:
    """The unit tests bite: the p95 threshold moved from 100 to 300 ms breaks them."""
    (tmp_path / "tests").mkdir()
    moved = ALERTS.read_text().replace("p95_5m > 0.1\n", "p95_5m > 0.3\n")
    assert moved != ALERTS.read_text()
    (tmp_path / "alerts.yml").write_text(moved)
    for t in TESTS:
        (tmp_path / "tests" / t.name).write_text(t.read_text())
    result = _promtool("test", "rules", *[f"tests/{t.name}" for t in TESTS], cwd=tmp_path)
    assert result.returncode != 0
    assert "PredictionLatencyP95High" in result.stdout + result.stderr
