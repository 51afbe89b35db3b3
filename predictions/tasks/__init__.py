"""Celery tasks of the predictions app, one module per concern (autodiscovery imports this)."""

from predictions.tasks.accuracy import *  # noqa: F403
from predictions.tasks.consistency import *  # noqa: F403
from predictions.tasks.pipeline import *  # noqa: F403
from predictions.tasks.retention import *  # noqa: F403
from predictions.tasks.rollout import *  # noqa: F403
from predictions.tasks.training import *  # noqa: F403
