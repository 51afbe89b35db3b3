"""backup -> fresh database -> restore -> same row counts -> the API answers from it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections

from backups.service import MANIFEST, Target, list_backups, row_counts
from predictions.benchmarks.universe import install_models, make_symbols
from predictions.pipeline import runtime
from predictions.tests.api_support import access_token, store_prediction
from testkit import make_users

pytestmark = pytest.mark.django_db(transaction=True)
BASE_DIR = Path(settings.BASE_DIR)

# Run in a separate process against the restored database: GET /api/prediction/AAA through
# DRF with a JWT issued before the backup (same user and password hash in the restored rows).
API_PROBE = """
import json, sys
import django
django.setup()
from rest_framework.test import APIClient
client = APIClient()
client.credentials(HTTP_AUTHORIZATION="Bearer " + sys.argv[1])
response = client.get("/api/prediction/AAA")
print(json.dumps({"status": response.status_code,
                  "source": response.headers.get("X-Prediction-Source"),
                  "body": response.json()}))
"""


def _admin(target: Target) -> psycopg.Connection:
    return psycopg.connect(
        dbname="postgres", host=target.host or None, user=target.user or None, autocommit=True
    )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """An empty database beside the test database, dropped afterwards."""
    name = f"{connections['default'].settings_dict['NAME']}_restored"
    target = Target.current(name)
    with _admin(target) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _admin(target) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def platform_data(tmp_path: Path, redis_client: object) -> dict[str, Any]:
    runtime.clear_cache()
    alice, _bob, _charlie = make_users()
    symbols = make_symbols(["AAA", "BBB"])
    models = install_models(tmp_path / "models")
    from ingestion.models import Symbol

    store_prediction(Symbol.objects.get(pk=symbols["AAA"]), model_version="v-backup")
    return {"token": access_token(alice), "models": models}


def test_it_round_trips_a_backup_into_a_fresh_database(
    tmp_path, settings, platform_data, fresh_database
) -> None:
    settings.BACKUP_DIR = tmp_path / "backups"
    call_command("backup")
    [path] = list_backups(settings.BACKUP_DIR)
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["row_counts"]["predictions_prediction"] == 1
    assert {m["kind"] for m in manifest["models"]} == {"normal", "earnings"}
    # The artifacts are gone (a lost disk): the restore must put them back.
    artifact = Path(platform_data["models"]["normal"].artifact_path)
    shutil.rmtree(tmp_path / "models")

    call_command("restore", str(path), database_name=fresh_database)

    assert row_counts(Target.current(fresh_database)) == row_counts(Target.current())
    assert (artifact / "model.onnx").exists()
    env = dict(
        os.environ,
        DATABASE_NAME=fresh_database,
        DJANGO_SETTINGS_MODULE="config.settings_test",
        TEST_REDIS_URL=settings.REDIS_URL,
    )
    probe = subprocess.run(
        [sys.executable, "-c", API_PROBE, str(platform_data["token"])],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    answer = json.loads(probe.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200 and answer["source"] == "postgres"
    assert answer["body"]["symbol"] == "AAA" and answer["body"]["model_version"] == "v-backup"


def test_it_refuses_to_restore_into_a_database_with_tables(
    tmp_path, settings, platform_data
) -> None:
    settings.BACKUP_DIR = tmp_path / "backups"
    call_command("backup")
    path = list_backups(settings.BACKUP_DIR)[-1]
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(path))  # the test database itself


def test_it_keeps_only_the_newest_backups(tmp_path, settings, platform_data) -> None:
    settings.BACKUP_DIR = tmp_path / "backups"
    for _ in range(3):
        call_command("backup", keep=2)
    kept = list_backups(settings.BACKUP_DIR)
    assert len(kept) == 2
    assert not list((tmp_path / "backups").glob(".tmp-*"))


def test_it_is_scheduled_daily_on_the_ingest_queue() -> None:
    from config.celery_app import app

    entry = settings.CELERY_BEAT_SCHEDULE["daily-backup"]
    assert entry["task"] == "backups.tasks.daily_backup"
    assert str(entry["schedule"].hour) == "{3}"
    assert app.amqp.router.route({}, entry["task"])["queue"].name == "ingest"
