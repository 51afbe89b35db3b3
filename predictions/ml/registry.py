"""Model registry over ``ModelVersion``: exactly one active version per kind.

Activation runs in one transaction with the kind's rows locked, retiring the old active version
before the new one becomes active (the partial unique constraint is checked per statement).
Rollback re-activates the most recently activated earlier version. No TensorFlow import here:
the serving pipeline and the admin use this module.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from predictions.models import ModelKind, ModelStatus, ModelVersion

KINDS = tuple(ModelKind.values)


class RegistryError(Exception):
    pass


def active_version(kind: str, *, only: tuple[str, ...] = ()) -> ModelVersion | None:
    """The kind's active version; ``only``: the columns to read now (the rest load on access)."""
    rows = ModelVersion.objects.filter(kind=kind, status=ModelStatus.ACTIVE)
    return (rows.only(*only) if only else rows).first()


def get_version(kind: str, version: str | None = None) -> ModelVersion:
    """A named version, or the active one when ``version`` is None."""
    found = (
        active_version(kind)
        if version is None
        else ModelVersion.objects.filter(kind=kind, version=version).first()
    )
    if found is None:
        what = f"version {version!r}" if version else "active version"
        raise RegistryError(f"No {what} of kind {kind!r}")
    return found


def _append_note(mv: ModelVersion, text: str) -> None:
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%SZ")
    mv.notes = f"{mv.notes}\n{stamp} {text}".strip()


def register(
    kind: str,
    version: str,
    artifact_path: str,
    *,
    metrics: dict[str, Any],
    metadata: dict[str, Any],
    activate: bool = False,
    note: str = "",
) -> ModelVersion:
    if kind not in KINDS:
        raise RegistryError(f"Unknown kind {kind!r}")
    mv = ModelVersion.objects.create(
        kind=kind,
        version=version,
        artifact_path=artifact_path,
        metrics=metrics,
        metadata=metadata,
        status=ModelStatus.CANDIDATE,
        notes=note,
    )
    if activate:
        mv = activate_version(kind, version, reason="activated at training (--activate)")
    return mv


def activate_version(kind: str, version: str, *, reason: str = "activated") -> ModelVersion:
    with transaction.atomic():
        rows = {m.version: m for m in ModelVersion.objects.select_for_update().filter(kind=kind)}
        target = rows.get(version)
        if target is None:
            raise RegistryError(f"No version {version!r} of kind {kind!r}")
        if target.status == ModelStatus.ACTIVE:
            return target
        for other in rows.values():
            if other.status == ModelStatus.ACTIVE:
                other.status = ModelStatus.RETIRED
                _append_note(other, f"retired: {version} {reason}")
                other.save(update_fields=["status", "notes"])
        target.status = ModelStatus.ACTIVE
        target.activated_at = timezone.now()
        _append_note(target, reason)
        target.save(update_fields=["status", "activated_at", "notes"])
        return target


def rollback(kind: str) -> ModelVersion:
    """Retire the active version and re-activate the most recently activated earlier one."""
    with transaction.atomic():
        qs = ModelVersion.objects.select_for_update().filter(kind=kind)
        current = qs.filter(status=ModelStatus.ACTIVE).first()
        previous = (
            qs.exclude(status=ModelStatus.ACTIVE)
            .filter(activated_at__isnull=False)
            .order_by("-activated_at")
            .first()
        )
        if previous is None:
            raise RegistryError(f"No earlier activated version of kind {kind!r} to roll back to")
        if current is not None:
            current.status = ModelStatus.RETIRED
            _append_note(current, f"rolled back to {previous.version}")
            current.save(update_fields=["status", "notes"])
        previous.status = ModelStatus.ACTIVE
        previous.activated_at = timezone.now()
        old = current.version if current else "none"
        _append_note(previous, f"re-activated by rollback from {old}")
        previous.save(update_fields=["status", "activated_at", "notes"])
        return previous


def describe(mv: ModelVersion) -> dict[str, Any]:
    m = mv.metrics or {}
    return {
        "kind": mv.kind,
        "version": mv.version,
        "status": mv.status,
        "created_at": mv.created_at.isoformat() if mv.created_at else None,
        "activated_at": mv.activated_at.isoformat() if mv.activated_at else None,
        "artifact_path": mv.artifact_path,
        "test_mae": (m.get("test") or {}).get("mae"),
        "test_mae_ratio": (m.get("test") or {}).get("mae_ratio"),
    }
