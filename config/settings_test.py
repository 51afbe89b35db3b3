"""Test settings: the same as base, with their own Redis database so a running platform (db 0) is
never flushed by a test run, and fast password hashing. Override with TEST_REDIS_URL.

This module lives outside the ``config.settings`` package on purpose: importing a submodule of
that package would first run its ``__init__`` (the base settings) before the variables below are
set, and every derived setting (cache, Channels, Celery broker) would point at db 0.
"""

import os

os.environ["DJANGO_ENV"] = "test"
# The Redis database a platform started from this environment would use; the suite must never
# touch it (conftest.py checks it with a marker key; testkit.test_redis refuses to flush it).
# Kept in the environment: the processes a test starts load this module again.
os.environ["PLATFORM_REDIS_URL"] = os.environ.get("PLATFORM_REDIS_URL") or os.environ.get(
    "REDIS_URL", "redis://127.0.0.1:6379/0"
)
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings.base import *  # noqa: F403

PLATFORM_REDIS_URL = os.environ["PLATFORM_REDIS_URL"]

# Test workers run in threads and as `solo` subprocesses that cannot answer remote control while
# busy: the orphan reaper would redeliver their running tasks. core/tests/test_orphans.py tests it.
CELERY_ORPHAN_REAPER = os.environ.get("CELERY_ORPHAN_REAPER", "0") == "1"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
