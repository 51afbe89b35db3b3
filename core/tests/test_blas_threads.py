"""NumPy's BLAS runs the configured number of threads in every process of the platform."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from core.apps import limit_blas


def _blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_it_holds_numpy_blas_to_the_setting(settings) -> None:
    import scipy.linalg  # noqa: F401  (SciPy loads its own OpenBLAS)

    assert _blas_threads() == {1}  # the default: libraries loaded before and after the apps
    settings.NUMPY_BLAS_THREADS = 2
    try:
        limit_blas()
        assert _blas_threads() == {2}
    finally:
        settings.NUMPY_BLAS_THREADS = 1
        limit_blas()
