"""Beat task: the live-accuracy gate of model rollouts (issue 22, ``predictions.rollout``;
beat entry ``model-rollout-check``, queue ingest)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

__all__ = ["check_rollouts"]

log = logging.getLogger(__name__)


@shared_task(
    name="predictions.tasks.rollout.check_rollouts",
    time_limit=300,
    soft_time_limit=240,
)
def check_rollouts() -> list[dict[str, Any]]:
    """Promote each rollout in progress a stage, roll it back, or leave it waiting."""
    from predictions.rollout.stages import check_all

    out = check_all()
    for item in out:
        log.info("model rollout %s %s: %s (%s)", item["kind"], item.get("version"),
                 item["action"], item["reason"])  # fmt: skip
    return out
