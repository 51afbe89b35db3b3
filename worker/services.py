"""Bring up the local services a command needs, run it, and put things back as they were.

    python -m worker.services -- pytest -q

Redis must answer at REDIS_URL (a local redis-server is started if installed, see
``ensure_redis``). Unless DATABASE_URL is set, the embedded PostgreSQL is started; it is stopped
afterwards only if this process started it, so a `make test` beside a running `make run` does
not pull the database from under it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from worker import ensure_redis


@contextlib.contextmanager
def platform_services() -> Iterator[None]:
    if ensure_redis.main() != 0:
        raise SystemExit(1)
    started_db = False
    if not os.environ.get("DATABASE_URL"):
        from config import embedded_db

        started_db = embedded_db._running_socket_dir() is None
        socket_dir = embedded_db.ensure_running()
        print(f"embedded PostgreSQL {'started' if started_db else 'reused'} ({socket_dir})")
    try:
        yield
    finally:
        if started_db:
            from config import embedded_db

            embedded_db.stop()
            print("embedded PostgreSQL stopped")


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    if not command:
        print("usage: python -m worker.services -- COMMAND [ARGS...]")
        return 2
    with platform_services():
        try:
            return subprocess.call(command)
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv))
