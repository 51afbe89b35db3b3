"""Both storage paths, from zero: the default embedded cluster with TimescaleDB and a second
embedded cluster (``var/pgdata-plain``) with pgvector and no TimescaleDB. Each gets a fresh
database, ``migrate`` from an empty schema and the same synthetic history through
``storage_probe`` (a subprocess per path: the ORM is bound to one database per process); the
accuracy figures, the retention counts and the surviving rows must be the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings

from config import embedded_db

ROOT = Path(__file__).resolve().parents[2]
RETENTION_DAYS = "40"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="needs the embedded PostgreSQL clusters"
)


def _fresh_database(socket_dir: Path, name: str) -> str:
    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@/{name}?host={socket_dir}"


def _drop_database(socket_dir: Path, name: str) -> None:
    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(args: list[str], url: str) -> str:
    env = dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE="config.settings_test",
        PREDICTION_RETENTION_DAYS=RETENTION_DAYS,
    )
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _start(cluster: embedded_db.Cluster) -> Path:
    # In a subprocess, as `make` does: this process keeps no handle on the server.
    flags = ["--plain"] if cluster == embedded_db.PLAIN else []
    subprocess.run(
        [sys.executable, "-m", "config.embedded_db", "start", *flags],
        cwd=ROOT, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    socket_dir = embedded_db._running_socket_dir(cluster.pgdata)
    assert socket_dir is not None
    return socket_dir


def _probe(cluster: embedded_db.Cluster, name: str) -> dict[str, Any]:
    socket_dir = _start(cluster)
    url = _fresh_database(socket_dir, name)
    try:
        _run(["manage.py", "migrate", "--no-input", "-v", "0"], url)
        result: dict[str, Any] = json.loads(_run(["-m", "predictions.tests.storage_probe"], url))
        return result
    finally:
        _drop_database(socket_dir, name)


@pytest.fixture(scope="module")
def paths() -> dict[str, dict[str, Any]]:
    if not embedded_db.timescaledb_installed():
        pytest.fail("TimescaleDB is not installed in the venv: run make setup")
    name = settings.DATABASES["default"]["TEST"]["NAME"] + "_paths"
    was_running = embedded_db._running_socket_dir(embedded_db.PLAIN.pgdata) is not None
    try:
        return {
            "timescaledb": _probe(embedded_db.DEFAULT, name),
            "plain": _probe(embedded_db.PLAIN, name),
        }
    finally:
        if not was_running:
            subprocess.run(
                [sys.executable, "-m", "config.embedded_db", "stop", "--plain"],
                cwd=ROOT, check=True, capture_output=True, timeout=120,
            )  # fmt: skip


def test_it_builds_hypertables_policies_and_the_aggregate_on_timescaledb(paths):
    state = paths["timescaledb"]["state"]
    assert state["timescaledb"] is True
    assert state["hypertables"] == ["ingestion_pricebar", "predictions_predictionrecord"]
    assert state["jobs"] == [
        ["policy_compression", "ingestion_pricebar"],
        ["policy_refresh_continuous_aggregate", "predictions_daily_accuracy"],
        ["policy_compression", "predictions_predictionrecord"],
        ["policy_retention", "predictions_predictionrecord"],
    ]
    assert state["continuous_aggregate"] is True
    # The figures below were read from materialised buckets, not only computed in real time.
    assert paths["timescaledb"]["materialised_rows"] > 0
    compressed = paths["timescaledb"]["compressed_chunks"]
    assert compressed["predictions_predictionrecord"] > 0 and compressed["ingestion_pricebar"] > 0
    assert paths["timescaledb"]["retention_path"] == "timescaledb"


def test_it_stays_on_plain_postgresql_without_timescaledb(paths):
    state = paths["plain"]["state"]
    assert state == {
        "timescaledb": False,
        "hypertables": [],
        "jobs": [],
        "continuous_aggregate": False,
    }
    assert paths["plain"]["retention_path"] == "plain"


def test_it_gives_the_same_accuracy_on_both_paths(paths):
    tsdb, plain = paths["timescaledb"], paths["plain"]
    assert tsdb["realised"] == plain["realised"] == 60 * 12
    assert tsdb["rolling"] == plain["rolling"]
    assert tsdb["daily"] == plain["daily"]
    assert len(tsdb["daily"]) > 60  # both model kinds, every target day
    normal = tsdb["rolling"]["normal"]["30d"]
    assert normal["n"] > 0 and normal["rank_ic"] is not None


def test_it_retains_the_same_rows_on_both_paths(paths):
    tsdb, plain = paths["timescaledb"], paths["plain"]
    assert tsdb["retention"] == plain["retention"] | {
        "dropped_chunks": tsdb["retention"]["dropped_chunks"]
    }
    assert tsdb["retention"]["dropped_chunks"] > 0
    assert 0 < len(tsdb["kept"]) < 60 * 12
    assert tsdb["kept"] == plain["kept"]
    # The aggregate forgets what retention dropped, as the plain view does.
    assert tsdb["rolling_after"] == plain["rolling_after"]
    assert tsdb["daily_after"] == plain["daily_after"]
    assert len(tsdb["daily_after"]) < len(tsdb["daily"])


_MOVE_SCRIPT = """
import json, shutil, sys
from pathlib import Path
import psycopg
from config import embedded_db as e

path = Path(sys.argv[1])
shutil.rmtree(path, ignore_errors=True)
def q(socket, sql):
    with psycopg.connect(host=str(socket), user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []
out = {}
try:
    s = e.ensure_running(e.Cluster(path, timescaledb=False))  # a cluster from before
    q(s, "CREATE TABLE kept AS SELECT generate_series(1, 1000) AS n")
    out["before"] = e._has_timescaledb_settings(s)
    s = e.ensure_running(e.Cluster(path))  # running: reconfigured and restarted
    out["after"] = e._has_timescaledb_settings(s)
    out["rows"] = q(s, "SELECT count(*) FROM kept")[0][0]
    q(s, "CREATE EXTENSION timescaledb")
    out["extension"] = q(s, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    e.stop(e.Cluster(path))
    s = e.ensure_running(e.Cluster(path, timescaledb=False))  # stopped: preload removed
    out["plain_again"] = not e._has_timescaledb_settings(s)
    out["rows_again"] = q(s, "SELECT count(*) FROM kept")[0][0]
finally:
    e.stop(e.Cluster(path))
    shutil.rmtree(path, ignore_errors=True)
print(json.dumps(out))
"""


def test_it_moves_an_existing_cluster_to_timescaledb_keeping_its_data():
    done = subprocess.run(
        [sys.executable, "-c", _MOVE_SCRIPT, str(ROOT / "var" / "pgdata-move-test")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {
        "before": False,
        "after": True,
        "rows": 1000,
        "extension": [["2.29.2"]],
        "plain_again": True,
        "rows_again": 1000,
    }
