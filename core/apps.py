from django.apps import AppConfig


def _serve_worker_metrics(**kwargs: object) -> None:
    from core.metrics import serve_worker_metrics

    serve_worker_metrics()


def _nice_autogroup(**kwargs: object) -> None:
    from core.scheduling import nice_autogroup

    nice_autogroup()


def limit_blas(**kwargs: object) -> None:
    """NumPy's BLAS to ``NUMPY_BLAS_THREADS`` in this process (and again in each forked Celery
    pool process, whose library state is the parent's but whose pool is its own)."""
    import os

    from django.conf import settings
    from threadpoolctl import threadpool_limits

    # A BLAS loaded later (SciPy's own OpenBLAS) reads the variable when it loads; the ones
    # already loaded are limited now.
    os.environ["OPENBLAS_NUM_THREADS"] = str(settings.NUMPY_BLAS_THREADS)
    threadpool_limits(limits=settings.NUMPY_BLAS_THREADS, user_api="blas")


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_process_init

        from core import checks, logs  # noqa: F401  (checks registers system checks)

        logs.connect_celery()  # correlation ids travel in task headers
        limit_blas()
        worker_process_init.connect(limit_blas, weak=False)

        # Each Celery pool process serves its own metrics on CELERY_METRICS_PORT (worker/Procfile).
        worker_process_init.connect(_serve_worker_metrics, weak=False)
        # A niced worker (index, training) niced against other sessions too (core/scheduling.py).
        worker_init.connect(_nice_autogroup, weak=False)
