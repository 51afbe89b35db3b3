"""The personal data the accounts app keeps, declared to ``accounts.privacy``: the account, the
consent given at sign-up, API token metadata (never a secret), rate-limit counters, website
sessions and the operators' admin log entries about the account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import login_throttle, throttling
from accounts.models import Consent, User
from accounts.privacy import Holder, register
from accounts.signals import revoke_refresh_tokens

ERASED_REPR = "erased account"


class AccountSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = (
            "username",
            "email",
            "first_name",
            "last_name",
            "tier",
            "date_joined",
            "last_login",
            "is_active",
            "is_staff",
        )


class ConsentSerializer(serializers.ModelSerializer[Consent]):
    statement = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="The notice's items as shown at sign-up: [{data, purpose}]",
    )

    class Meta:
        model = Consent
        fields = ("notice_version", "statement", "given_at")


class ApiTokenSerializer(serializers.Serializer[OutstandingToken]):
    """Metadata of a refresh token: the token itself is never kept in an export."""

    id = serializers.CharField(source="jti", help_text="The token's id (jti), not the token")
    created_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.SerializerMethodField()

    def get_revoked_at(self, token: OutstandingToken) -> datetime | None:
        revoked = getattr(token, "blacklistedtoken", None)
        return None if revoked is None else revoked.blacklisted_at


class CounterSerializer(serializers.Serializer[dict[str, Any]]):
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    used = serializers.IntegerField(allow_null=True, help_text="null: Redis unreachable")
    reset_at = serializers.IntegerField(help_text="Unix time the window ends")


class RateLimitsSerializer(serializers.Serializer[dict[str, Any]]):
    api = CounterSerializer(help_text="REST API requests with a token (tier limit)")
    website = CounterSerializer(help_text="The website's own API calls with your session")
    failed_sign_ins = CounterSerializer(help_text="Failed sign-ins for your username")


class SessionSerializer(serializers.Serializer[Session]):
    expires_at = serializers.DateTimeField(source="expire_date")


class AdminChangeSerializer(serializers.Serializer[LogEntry]):
    action_time = serializers.DateTimeField()
    action = serializers.SerializerMethodField()
    change = serializers.CharField(source="get_change_message")

    def get_action(self, entry: LogEntry) -> str:
        return {1: "added", 2: "changed", 3: "deleted"}.get(entry.action_flag, "other")


def _tokens(user: User) -> Any:
    return OutstandingToken.objects.filter(user=user).select_related("blacklistedtoken")


def _erase_tokens(user: User) -> int:
    """Revoke every refresh token (blacklisted: refused even if an id were ever reused), then
    keep of each only its random id and dates: the token text carries the user id."""
    revoke_refresh_tokens(user)
    return OutstandingToken.objects.filter(user=user).update(token="", user=None)


def _rate_limits(user: User) -> dict[str, Any]:
    return {
        **throttling.usage(user.pk, user.tier),
        "failed_sign_ins": login_throttle.failures(user.get_username()),
    }


def _erase_rate_limits(user: User) -> int:
    user_id, username = user.pk, user.get_username()

    def drop() -> None:
        throttling.forget_user(user_id)
        login_throttle.forget_user(username)

    transaction.on_commit(drop)
    return 0  # Redis counters, not rows


def _sessions(user: User) -> list[Session]:
    """The user's website sessions (a session row names its user only inside its signed data)."""
    uid = str(user.pk)
    return [s for s in Session.objects.iterator() if s.get_decoded().get(SESSION_KEY) == uid]


def _erase_sessions(user: User) -> int:
    keys = [s.session_key for s in _sessions(user)]
    return Session.objects.filter(session_key__in=keys).delete()[0]


def _admin_changes(user: User) -> QuerySet[LogEntry]:
    user_type = ContentType.objects.get_for_model(User)
    return LogEntry.objects.filter(content_type=user_type, object_id=str(user.pk))


def _erase_admin_changes(user: User) -> int:
    """Operators' log entries about the account stay (who changed what kind of thing, when),
    without the account's name or id. Entries the user made as an operator go with the user
    (Django's cascade)."""
    return _admin_changes(user).update(object_id=None, object_repr=ERASED_REPR)


def _erase_consents(user: User) -> int:
    return Consent.objects.filter(user=user).delete()[0]


HOLDERS = [
    Holder(
        "account",
        "Your username, e-mail address, optional first and last name, password (as a salted "
        "hash), tier, sign-up and last sign-in times",
        "To sign you in, apply your tier's limits and reach you about your account",
        AccountSerializer,
        lambda user: user,
        lambda user: 1,  # the row itself is deleted by accounts.privacy.erase
        many=False,
    ),
    Holder(
        "consents",
        "This notice's version and the time you agreed to it",
        "To show what you agreed to",
        ConsentSerializer,
        lambda user: Consent.objects.filter(user=user),
        _erase_consents,
    ),
    Holder(
        "api_tokens",
        "Id, creation, expiry and revocation time of each REST API token you create",
        "To accept and revoke your tokens",
        ApiTokenSerializer,
        _tokens,
        _erase_tokens,
    ),
    Holder(
        "rate_limits",
        "Counts of your API requests and failed sign-ins in the current hour (kept at most "
        "two windows, in Redis)",
        "To enforce your tier's rate limits and stop password guessing",
        RateLimitsSerializer,
        _rate_limits,
        _erase_rate_limits,
        many=False,
    ),
    Holder(
        "website_sessions",
        "A session per browser you are signed in with, until it expires",
        "To keep you signed in",
        SessionSerializer,
        _sessions,
        _erase_sessions,
    ),
    Holder(
        "admin_changes",
        "Operators' log entries about changes they make to your account",
        "Accountability of operators",
        AdminChangeSerializer,
        _admin_changes,
        _erase_admin_changes,
    ),
]


def register_all() -> None:
    for holder in HOLDERS:
        register(holder)
