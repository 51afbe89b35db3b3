"""Explanation requests, declared to ``accounts.privacy``: which user started which job. The
explanation itself is about a stock, not the user: on erasure it stays, unlinked."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.privacy import Holder, register
from explanations.models import Explanation


class RequestedExplanationSerializer(serializers.Serializer[Explanation]):
    job_id = serializers.CharField()
    symbol = serializers.CharField()
    depth = serializers.CharField()
    status = serializers.CharField()
    requested_at = serializers.DateTimeField(source="created_at")
    completed_at = serializers.DateTimeField(allow_null=True)


def _requests(user: User) -> Any:
    return Explanation.objects.filter(requested_by=user).order_by("created_at", "id")


def _unlink(user: User) -> int:
    return Explanation.objects.filter(requested_by=user).update(requested_by=None)


def register_all() -> None:
    register(
        Holder(
            "explanation_requests",
            "The explanations you request: symbol, depth and time",
            "To attribute the load of generating them",
            RequestedExplanationSerializer,
            _requests,
            _unlink,
        )
    )
