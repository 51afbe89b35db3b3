"""Bring up the local services a command needs, run it, and put things back as they were.

    python -m worker.services -- pytest -q

Redis must answer at REDIS_URL (a local redis-server is started if installed, see
``ensure_redis``). Unless DATABASE_URL is set, the embedded PostgreSQL is started (or reused);
it is stopped afterwards by the last of its users (``embedded_database``). So a `make test`
beside a running `make run` does not pull the database from under it, and an unclean end does
not leave a server nobody stops.

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


def _users_dir(pgdata: Path) -> Path:
    return pgdata.with_name(pgdata.name + ".users")


def _live_users(pgdata: Path) -> list[int]:
    """Pids of the `make run`/`make test` processes using the server; dead ones are forgotten."""
    alive = []
    for entry in _users_dir(pgdata).glob("*"):
        if entry.name.isdigit() and pid_alive(int(entry.name)):
            alive.append(int(entry.name))
        else:
            entry.unlink(missing_ok=True)
    return alive


@contextlib.contextmanager
def embedded_database() -> Iterator[None]:
    """Each user registers itself next to the data directory; the last one out stops the
    server. So a `make test` beside a `make run` keeps the database up for the other, whichever
    ends first, and a runner killed with SIGKILL does not leave a server nobody stops."""
    from config import embedded_db

    pgdata = embedded_db.PGDATA
    running = embedded_db._running_socket_dir(pgdata) is not None
    others = _live_users(pgdata)
    socket_dir = embedded_db.ensure_running()
    state = "started" if not running else f"reused ({len(others)} other users)"
    print(f"embedded PostgreSQL {state} ({socket_dir})", flush=True)
    me = _users_dir(pgdata) / str(os.getpid())
    me.parent.mkdir(parents=True, exist_ok=True)
    me.touch()
    try:
        yield
    finally:
        me.unlink(missing_ok=True)
        if not _live_users(pgdata):
            embedded_db.stop()
            print("embedded PostgreSQL stopped", flush=True)
        else:
            print("embedded PostgreSQL left running for its other users", flush=True)


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
