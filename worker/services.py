"""Bring up the local services a command needs, run it, and put things back as they were.

    python -m worker.services -- pytest -q

Redis must answer at REDIS_URL (a local redis-server is started if installed, see
``ensure_redis``). Unless DATABASE_URL is set, the embedded PostgreSQL is started; it is stopped
afterwards only if this process owns it: it started it, or it found it left running by an owner
that died (a runner killed with SIGKILL). So a `make test` beside a running `make run` does not
pull the database from under it, and an unclean end does not leave a server nobody stops.

This module must not import ``config`` (its Celery app sets DJANGO_SETTINGS_MODULE in the
environment, which the command would inherit): the command gets the caller's environment.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from worker import ensure_redis
from worker.processes import pid_alive


class ServiceError(Exception):
    """A service the command needs is missing; the message says how to fix it (exit code 2)."""


def _owner_file(pgdata: Path) -> Path:
    return pgdata.with_name(pgdata.name + ".owner")


def _adopt_or_reuse(pgdata: Path) -> bool:
    """Whether this process now owns an already running server: its recorded owner died, or it
    has none (a command that loaded the settings started it on demand and never stops it)."""
    owner = _owner_file(pgdata)
    try:
        pid = int(owner.read_text().strip())
    except (OSError, ValueError):
        return True
    return not pid_alive(pid)


@contextlib.contextmanager
def embedded_database() -> Iterator[None]:
    from config import embedded_db

    pgdata = embedded_db.PGDATA
    running = embedded_db._running_socket_dir(pgdata) is not None
    owned = not running or _adopt_or_reuse(pgdata)
    socket_dir = embedded_db.ensure_running()
    state = "started" if not running else "taken over (no live owner)" if owned else "reused"
    print(f"embedded PostgreSQL {state} ({socket_dir})", flush=True)
    if owned:
        _owner_file(pgdata).write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        if owned:
            embedded_db.stop()
            _owner_file(pgdata).unlink(missing_ok=True)
            print("embedded PostgreSQL stopped", flush=True)


@contextlib.contextmanager
def platform_services() -> Iterator[None]:
    if ensure_redis.main() != 0:
        raise ServiceError("Redis is needed (see the line above).")
    if os.environ.get("DATABASE_URL"):
        yield
        return
    with embedded_database():
        yield


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    if not command:
        print("usage: python -m worker.services -- COMMAND [ARGS...]")
        return 2
    environment = dict(os.environ)  # before anything imported here can change it
    try:
        with platform_services():
            try:
                return subprocess.call(command, env=environment)
            except KeyboardInterrupt:
                return 130
    except ServiceError as error:
        print(error, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
