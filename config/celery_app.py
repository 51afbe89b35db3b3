"""The one Celery app.

Queues: ``ingest``, ``features``, ``inference`` (the live cycle), ``explain`` (on-demand
explanations and embeddings) and ``training`` (the weekly retrain, kept off ``inference`` so a
long training run never delays live predictions). Tasks are routed here by name, in one place.
"""

from __future__ import annotations

import os

from celery import Celery
from kombu.entity import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("stockpred")
app.config_from_object("django.conf:settings", namespace="CELERY")

QUEUES = ("ingest", "features", "inference", "explain", "training")
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
    "predictions.tasks.training.*": {"queue": "training"},
    "explanations.tasks.*": {"queue": "explain"},
}
app.conf.update(
    # Late acknowledgement + reject on worker loss: a batch whose worker dies is redelivered,
    # and the writes are idempotent so redelivery cannot duplicate rows.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_track_started=True,
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    # An unacknowledged task (its worker died) is redelivered after this long; it must exceed
    # the longest time limit of a late-acknowledged task (600 s) and no more, or a killed
    # inference cycle waits needlessly before it is retried.
    broker_transport_options={"visibility_timeout": 900},
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    task_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
)
app.autodiscover_tasks()
