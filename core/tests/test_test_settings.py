"""The suite runs with its own settings and Redis database, whatever the environment says."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

import testkit


def test_it_runs_with_the_test_settings():
    assert settings.SETTINGS_MODULE == "config.settings_test"
    assert settings.ENVIRONMENT == "test"


def test_it_uses_a_redis_database_other_than_the_platforms():
    assert settings.REDIS_URL != settings.PLATFORM_REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] != settings.PLATFORM_REDIS_URL


def test_it_refuses_to_empty_the_platforms_redis_database():
    with (
        override_settings(REDIS_URL=settings.PLATFORM_REDIS_URL),
        pytest.raises(RuntimeError, match="the platform's Redis database"),
    ):
        testkit.test_redis()
