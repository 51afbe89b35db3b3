"""Shared test helpers: the three standing users and real-service fixtures.

``BaseTestCase`` gives every test the same cast, so access checks are cheap to write:
- ``self.alice``: the owner (pro tier), who owns the objects under test;
- ``self.bob``: another tier (free), same kind of access, different limits;
- ``self.charlie``: an outsider (enterprise tier), who must not see alice's private objects.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.test import TestCase, TransactionTestCase

from accounts.models import Tier, User

PASSWORD = "correct-horse-battery-staple"


def make_users() -> tuple[User, User, User]:
    alice = User.objects.create_user("alice", "alice@example.org", PASSWORD, tier=Tier.PRO)
    bob = User.objects.create_user("bob", "bob@example.org", PASSWORD, tier=Tier.FREE)
    charlie = User.objects.create_user(
        "charlie", "charlie@example.org", PASSWORD, tier=Tier.ENTERPRISE
    )
    return alice, bob, charlie


def test_redis() -> redis.Redis:
    """The test run's own Redis database, emptied (never the platform's: see settings_test)."""
    platform_url = getattr(settings, "PLATFORM_REDIS_URL", "redis://127.0.0.1:6379/0")
    if platform_url == settings.REDIS_URL:
        raise RuntimeError(
            f"refusing to empty {settings.REDIS_URL}: it is the platform's Redis database; "
            "run the tests with --ds=config.settings_test (TEST_REDIS_URL picks their database)"
        )
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    return client


class BaseTestCase(TestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice, self.bob, self.charlie = make_users()
        self.redis = test_redis()


class BaseTransactionTestCase(TransactionTestCase):
    """For tests that need a real Celery worker or another process to see committed rows."""

    def setUp(self) -> None:
        super().setUp()
        self.alice, self.bob, self.charlie = make_users()
        self.redis = test_redis()
