"""The one Celery app.

Queues: ``ingest``, ``features``, ``inference`` (the live cycle), ``explain`` (on-demand
explanations only), ``index`` (bulk embedding of the knowledge base, on its own niced worker so
an explanation request never waits behind hundreds of indexing batches) and ``training`` (the
weekly retrain, kept off ``inference`` so a long training run never delays live predictions).
Tasks are routed here by name, in one place.
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready
from kombu.entity import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stockpred")
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("ingest", "features", "inference", "explain", "index", "training")
# Each queue gets its own direct exchange and routing key. (A bare Queue(name) binds every
# queue to the default exchange under the same key, and one message would reach all of them.)
app.conf.task_queues = [
    Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES
]
app.conf.task_default_queue = "ingest"
app.conf.task_default_exchange = "ingest"
app.conf.task_default_routing_key = "ingest"
app.conf.task_routes = {
    "predictions.tasks.retention.*": {"queue": "ingest"},
    "ingestion.tasks.*": {"queue": "ingest"},
    "features.tasks.*": {"queue": "features"},
    "decisions.tasks.*": {"queue": "features"},
    "predictions.tasks.pipeline.*": {"queue": "inference"},
    "predictions.tasks.consistency.*": {"queue": "ingest"},
    # The niced, mostly idle training worker: a sweep of seconds would hold up the live cycle.
    "predictions.tasks.accuracy.*": {"queue": "training"},
    "predictions.tasks.rollout.*": {"queue": "ingest"},
    "predictions.tasks.training.*": {"queue": "training"},
    # An exact name wins over the pattern below (Celery looks names up before globs).
    "explanations.tasks.index_documents_batch": {"queue": "index"},
    "explanations.tasks.index_transcripts_chain": {"queue": "index"},
    "explanations.tasks.*": {"queue": "explain"},
    "backups.tasks.*": {"queue": "ingest"},
}
app.conf.update(
    # Late acknowledgement + reject on worker loss: a batch whose worker dies is redelivered,
    # and the writes are idempotent so redelivery cannot duplicate rows.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    # No STARTED state: writing it to the result backend is one more Redis round trip before the
    # task body, and when Redis is down at that instant the task fails "outside its body" and
    # its message is acknowledged as failed: the day's features were lost (bench faults).
    task_track_started=False,
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    # An unacknowledged task (its worker died) is redelivered after this long; it must exceed
    # the longest time limit of a late-acknowledged task (600 s). A killed worker's messages
    # come back much sooner through the orphan reaper below (core/orphans.py).
    broker_transport_options={"visibility_timeout": 900},
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()


def _start_orphan_reaper(sender: Any = None, **kwargs: Any) -> None:
    """Each worker gives back the messages of dead workers on its queues (core/orphans.py)."""
    from django.conf import settings

    if sender is None or not getattr(settings, "CELERY_ORPHAN_REAPER", False):
        return
    from core.orphans import start_reaper

    consume_from = sender.app.amqp.queues.consume_from
    start_reaper(sender.app, list(consume_from or sender.app.amqp.queues))


worker_ready.connect(_start_orphan_reaper, weak=False)
