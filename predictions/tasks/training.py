"""Training tasks: weekly retrain with the promotion rule (issue: models)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from predictions.ml.data import KINDS

__all__ = ["weekly_retrain"]


@shared_task(
    name="predictions.tasks.training.weekly_retrain",
    time_limit=1800,
    soft_time_limit=1700,
    acks_late=False,  # a retrain killed half-way must not be redelivered and rerun blindly
)
def weekly_retrain(
    kinds: list[str] | None = None,
    prices: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Retrain each kind; the candidate replaces the active version only if it passes the
    rule. Runs on queue ``training`` (routed in ``config.celery_app``), off the live path.
    ``overrides`` (TrainOptions fields, e.g. {"max_train_rows": 20000}) keep tests small."""
    from predictions.ml.fit import FitConfig
    from predictions.ml.promotion import retrain

    overrides = dict(overrides or {})
    if "fit" in overrides and isinstance(overrides["fit"], dict):
        overrides["fit"] = FitConfig(**overrides["fit"])
    out: dict[str, Any] = {}
    for kind in kinds or list(KINDS):
        out[kind] = retrain(kind, prices=prices, overrides=overrides)
    return out
