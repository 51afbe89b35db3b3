"""Production mode refuses unsafe settings, and `check --deploy` is clean when configured."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

GOOD_KEY = "Zq8v-3nK_w9Lr2xT7bYp4sGm6hJd1cFe0aVuQiWoPzXyRtEk5Nl"  # test-only, not a secret


def _run(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}  # only what the test sets
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env_overrides})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_production_without_secret_key() -> None:
    env = {"DJANGO_ENV": "production", "REDIS_URL": "redis://redis.internal:6379/0"}
    result = _run({**env, "SECRET_KEY": ""}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be at least 50 characters" in result.stderr


def test_it_refuses_production_with_debug_on() -> None:
    result = _run({"DJANGO_ENV": "production", "SECRET_KEY": GOOD_KEY, "DEBUG": "1"}, "check")
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_it_passes_check_deploy_in_production_mode() -> None:
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_KEY,
        "ALLOWED_HOSTS": "predictions.example.com",
        "REDIS_URL": "redis://redis.internal:6379/0",
    }
    result = _run(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
