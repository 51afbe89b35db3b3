"""The API fast path loads a user's auth state outside Django's request cycle: after PostgreSQL
dropped the connection (a restart), the next load must reconnect instead of failing for good."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from rest_framework_simplejwt.tokens import AccessToken

from accounts.auth_state import aauthenticate, state_key

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_reconnects_when_postgres_dropped_the_connection(users, redis_client) -> None:
    alice = users[0]
    connection.ensure_connection()
    connection.connection.close()  # what a server restart leaves: the wrapper still holds it
    principal = async_to_sync(aauthenticate)(str(AccessToken.for_user(alice)))
    assert principal.user_id == alice.pk
    assert redis_client.get(state_key(alice.pk)) is not None  # loaded, then cached
