"""Seeded, reproducible Keras training of one model (point + monotone quantile heads).

Losses (in percent units, so the terms have comparable size): Huber (delta 1%) for the point
head, i.e. MSE on ordinary days without letting a single bad tick or crash day dominate the
gradient, and the pinball loss of the 10/50/90% quantiles for the quantile head.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from django.conf import settings

from predictions.ml.graph import UNITS, build_model

QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class FitConfig:
    epochs: int = 12
    batch_size: int = 512
    learning_rate: float = 1e-3
    patience: int = 3
    huber_delta_pct: float = 1.0
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def configure_tensorflow(threads: int | None = None) -> None:
    """Deterministic ops and explicit thread counts (two cores are shared by every process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    threads = threads or settings.TF_THREADS
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # already initialised in this process; the first setting stays
    tf.config.experimental.enable_op_determinism()


def _losses(delta: float) -> tuple[Any, Any]:
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="stockpred")  # type: ignore[untyped-decorator]
    def point_huber(y_true: Any, y_pred: Any) -> Any:
        err = ops.abs(ops.reshape(y_true, (-1, 1)) - y_pred) * UNITS
        quad = ops.minimum(err, delta)
        return ops.mean(0.5 * quad * quad + delta * (err - quad), axis=-1)

    @keras.saving.register_keras_serializable(package="stockpred")  # type: ignore[untyped-decorator]
    def pinball(y_true: Any, y_pred: Any) -> Any:
        tau = ops.convert_to_tensor(np.asarray(QUANTILES, dtype="float32"))
        diff = (ops.reshape(y_true, (-1, 1)) - y_pred) * UNITS
        return ops.mean(ops.maximum(tau * diff, (tau - 1.0) * diff), axis=-1)

    return point_huber, pinball


def fit_model(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    mask_columns: list[int] | None = None,
    sample_weight: np.ndarray | None = None,
    config: FitConfig = FitConfig(),
    y_point: np.ndarray | None = None,
    y_point_val: np.ndarray | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Train on (x_train, y_train); early-stop on the validation loss, keeping the best epoch.
    ``y_point`` (default ``y_train``) is the point head's target, e.g. the idiosyncratic part of
    the return; the quantile head always learns the return itself."""
    configure_tensorflow()
    import keras

    from predictions.ml.graph import robust_stats

    keras.utils.set_random_seed(config.seed)
    center, scale = robust_stats(x_train)
    model = build_model(center, scale, mask_columns, seed=config.seed)
    point_loss, quantile_loss = _losses(config.huber_delta_pct)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss={"point": point_loss, "quantiles": quantile_loss},
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=config.patience, restore_best_weights=True
    )
    yp = y_train if y_point is None else y_point
    yp_val = y_val if y_point_val is None else y_point_val
    history = model.fit(
        x_train.astype("float32"),
        {"point": yp.astype("float32"), "quantiles": y_train.astype("float32")},
        sample_weight=None if sample_weight is None else sample_weight.astype("float32"),
        validation_data=(
            x_val.astype("float32"),
            {"point": yp_val.astype("float32"), "quantiles": y_val.astype("float32")},
        ),
        epochs=config.epochs,
        batch_size=config.batch_size,
        shuffle=True,
        callbacks=[stop],
        verbose=0,
    )
    val_loss = [float(v) for v in history.history["val_loss"]]
    info = {
        "config": config.as_dict(),
        "epochs_run": len(val_loss),
        "best_epoch": int(np.argmin(val_loss)) + 1,
        "val_loss": [round(v, 6) for v in val_loss],
        "train_loss": [round(float(v), 6) for v in history.history["loss"]],
        "scaling": {"center": center.tolist(), "scale": scale.tolist(), "clip": 5.0},
        "mask_columns": list(mask_columns or []),
    }
    return model, info


def predict(model: Any, x: np.ndarray, batch_size: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    out = model.predict(x.astype("float32"), batch_size=batch_size, verbose=0)
    return np.asarray(out["point"]).reshape(-1), np.asarray(out["quantiles"])
