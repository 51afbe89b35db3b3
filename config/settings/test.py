"""Test settings: the same as base, with their own Redis database so a running platform (db 0) is
never flushed by a test run, and fast password hashing. Override with TEST_REDIS_URL."""

import os

os.environ["DJANGO_ENV"] = "test"
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

import importlib

import config.settings.base

# config/settings/__init__.py imported base BEFORE the two variables above were set, so its
# REDIS_URL (and everything derived from it: cache, Channels, Celery broker) pointed at the
# platform's db 0. Re-evaluate base now that the test environment is in place.
importlib.reload(config.settings.base)

from config.settings.base import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
