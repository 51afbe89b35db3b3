"""System checks for misconfiguration that would otherwise surface as a confusing runtime error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register


@register()
def check_shared_data(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.SHARED_DATA_DIR.is_dir():
        return [
            Warning(
                f"SHARED_DATA_DIR {settings.SHARED_DATA_DIR} does not exist",
                hint="Clone the project beside ../shared or set SHARED_DATA_DIR.",
                id="core.W001",
            )
        ]
    return []


@register()
def check_thread_settings(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    import os

    cores = os.cpu_count() or 1
    names = (
        "ORT_INTRA_OP_THREADS",
        "TORCH_THREADS",
        "LLM_THREADS",
        "TF_THREADS",
        "NUMPY_BLAS_THREADS",
    )
    return [
        Warning(
            f"{name}={getattr(settings, name)} exceeds the {cores} cores of this machine",
            hint="Threads beyond the core count make processes fight over the CPU.",
            id="core.W002",
        )
        for name in names
        if getattr(settings, name) > cores
    ]


@register(deploy=True)
def check_redis_url(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    if settings.PRODUCTION and settings.REDIS_URL.startswith("redis://127.0.0.1"):
        return [
            Error(
                "REDIS_URL points at localhost in production",
                hint="Set REDIS_URL to the production Redis.",
                id="core.E001",
            )
        ]
    return []
