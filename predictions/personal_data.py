"""Model-version notes that name an operator, declared to ``accounts.privacy``: activating a
version in the admin notes "activated in the admin by <username>" (``predictions.admin``) on it
and on the version it retires. On erasure the versions and their history stay; the name goes."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from accounts.models import User
from accounts.privacy import Holder, register
from predictions.models import ModelVersion

ADMIN_BY = "in the admin by "
ERASED = "in the admin by an erased account"


def _pattern(user: User) -> re.Pattern[str]:
    # The name must end there: "bob" must not match a note naming "bobby".
    return re.compile(re.escape(ADMIN_BY + user.get_username()) + r"(?![\w.@+-])")


class ModelVersionNoteSerializer(serializers.Serializer[dict[str, Any]]):
    kind = serializers.CharField()
    version = serializers.CharField()
    lines = serializers.ListField(child=serializers.CharField(), help_text="Notes naming you")


def _versions(user: User) -> list[ModelVersion]:
    pattern = _pattern(user)
    candidates = ModelVersion.objects.filter(notes__contains=ADMIN_BY + user.get_username())
    return [mv for mv in candidates.order_by("id") if pattern.search(mv.notes)]


def _notes(user: User) -> list[dict[str, Any]]:
    pattern = _pattern(user)
    return [
        {
            "kind": mv.kind,
            "version": mv.version,
            "lines": [line for line in mv.notes.splitlines() if pattern.search(line)],
        }
        for mv in _versions(user)
    ]


def _erase(user: User) -> int:
    pattern = _pattern(user)
    versions = _versions(user)
    for mv in versions:
        mv.notes = pattern.sub(ERASED, mv.notes)
    ModelVersion.objects.bulk_update(versions, ["notes"])
    return len(versions)


def register_all() -> None:
    register(
        Holder(
            "model_version_notes",
            "Operators only: your username in the notes of model versions you activate",
            "Accountability for changes of the live model",
            ModelVersionNoteSerializer,
            _notes,
            _erase,
        )
    )
