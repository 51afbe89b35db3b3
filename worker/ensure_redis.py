"""Make sure Redis answers at REDIS_URL before anything starts, instead of hanging later.

If nothing answers and the URL points at this machine, start a local ``redis-server`` (no
persistence, data under var/redis) when one is installed; otherwise say exactly what is missing.
Exit status 0 when Redis answers, 1 otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import redis

BASE_DIR = Path(__file__).resolve().parent.parent


def answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> int:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if answers(url):
        return 0
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
    server = shutil.which("redis-server")
    if host not in {"127.0.0.1", "localhost", "::1"}:
        print(f"Redis at {url} does not answer. Start it, or set REDIS_URL to a Redis that runs.")
        return 1
    if server is None:
        print(
            f"Nothing answers at {url} and redis-server is not installed.\n"
            "Fix: `apt-get install redis-server` (Debian/Ubuntu), or run Redis elsewhere and set "
            "REDIS_URL=redis://HOST:PORT/0."
        )
        return 1
    data_dir = BASE_DIR / "var" / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"Nothing answers at {url}: starting {server} on {host}:{port} (no persistence)")
    subprocess.run(
        [
            server,
            "--daemonize",
            "yes",
            "--bind",
            host,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data_dir),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        check=True,
    )
    for _ in range(50):
        if answers(url):
            return 0
        time.sleep(0.1)
    print(f"Started redis-server but {url} still does not answer; see {data_dir / 'redis.log'}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
