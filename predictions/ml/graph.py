"""The Keras network with scaling, imputation, masks and calibration INSIDE the graph.

Serving feeds raw feature values (NaN allowed) to the exported ONNX graph, so everything that
turns raw values into network inputs lives in layers whose constants are training-set statistics:
- ``RobustScale``: (x - median) / IQR-scale, clipped to +-CLIP, NaN -> 0 after scaling, plus a
  0/1 "missing" mask per maskable column (the earnings features), so "missing" is never confused
  with "typical value".
- ``QuantileHead``: p50 plus softplus offsets, so p10 <= p50 <= p90 by construction; the
  validation-year calibration multiplies the two offsets by non-negative constants (non-trainable
  weights), which keeps the order.
Outputs are returns (not percent): the trunk works in percent units and ``UNITS`` converts back.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import layers, ops

CLIP = 5.0
UNITS = 100.0  # network works in percent; outputs are divided by this


@keras.saving.register_keras_serializable(package="stockpred")
class RobustScale(layers.Layer):  # type: ignore[misc]
    def __init__(
        self,
        center: list[float],
        scale: list[float],
        mask_columns: list[int] | None = None,
        clip: float = CLIP,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.center = [float(v) for v in center]
        self.scale = [float(v) for v in scale]
        self.mask_columns = [int(i) for i in (mask_columns or [])]
        self.clip = float(clip)

    def call(self, x: Any) -> Any:
        missing = ops.isnan(x)
        center = ops.convert_to_tensor(np.asarray(self.center, dtype="float32"))
        scale = ops.convert_to_tensor(np.asarray(self.scale, dtype="float32"))
        z = ops.clip((x - center) / scale, -self.clip, self.clip)
        z = ops.where(missing, ops.zeros_like(z), z)
        if not self.mask_columns:
            return z
        mask = ops.cast(ops.take(missing, self.mask_columns, axis=1), "float32")
        return ops.concatenate([z, mask], axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], len(self.center) + len(self.mask_columns))

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "center": self.center,
            "scale": self.scale,
            "mask_columns": self.mask_columns,
            "clip": self.clip,
        }


@keras.saving.register_keras_serializable(package="stockpred")
class QuantileHead(layers.Layer):  # type: ignore[misc]
    """[B, 16] -> [B, 3] monotone (p10, p50, p90) in percent units."""

    def build(self, input_shape: Any) -> None:
        self.median = layers.Dense(1, name="p50")
        self.offsets = layers.Dense(2, name="offsets")
        self.median.build(input_shape)
        self.offsets.build(input_shape)
        # Calibration multipliers for the lower/upper offset, set after training (>= 0).
        self.calibration = self.add_weight(
            name="calibration", shape=(2,), initializer="ones", trainable=False
        )

    def call(self, h: Any) -> Any:
        p50 = self.median(h)
        off = ops.softplus(self.offsets(h)) * self.calibration
        return ops.concatenate([p50 - off[:, 0:1], p50, p50 + off[:, 1:2]], axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], 3)


@keras.saving.register_keras_serializable(package="stockpred")
class PointScale(layers.Layer):  # type: ignore[misc]
    """Multiplies the point forecast by a non-trainable constant fitted on the validation year
    (shrinkage towards zero: the MAE-optimal scale of a weak signal is below 1)."""

    def build(self, input_shape: Any) -> None:
        self.scale = self.add_weight(name="scale", shape=(1,), initializer="ones", trainable=False)

    def call(self, x: Any) -> Any:
        return x * self.scale

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


def robust_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and IQR/1.349 per column over finite training values (scale >= tiny, so no /0)."""
    center = np.zeros(x.shape[1], dtype="float64")
    scale = np.ones(x.shape[1], dtype="float64")
    for j in range(x.shape[1]):
        col = x[:, j][np.isfinite(x[:, j])]
        if col.size == 0:
            continue
        q25, q50, q75 = np.percentile(col, [25, 50, 75])
        spread = (q75 - q25) / 1.349
        if not spread > 1e-12:
            spread = float(np.std(col)) or 1.0
        center[j], scale[j] = q50, spread
    return center, scale


def build_model(
    center: np.ndarray,
    scale: np.ndarray,
    mask_columns: list[int] | None = None,
    *,
    seed: int = 42,
) -> keras.Model:
    """input -> 64 ReLU -> Dropout .3 -> 32 ReLU -> Dropout .2 -> 16 ReLU -> point, quantiles."""
    n_features = len(center)
    inputs = keras.Input(shape=(n_features,), name="features", dtype="float32")
    h = RobustScale(list(center), list(scale), mask_columns, name="robust_scale")(inputs)
    h = layers.Dense(64, activation="relu", name="dense_64")(h)
    h = layers.Dropout(0.3, seed=seed, name="dropout_30")(h)
    h = layers.Dense(32, activation="relu", name="dense_32")(h)
    h = layers.Dropout(0.2, seed=seed + 1, name="dropout_20")(h)
    h = layers.Dense(16, activation="relu", name="dense_16")(h)
    point = PointScale(name="point_scale")(layers.Dense(1, name="point_pct")(h))
    quantiles = QuantileHead(name="quantiles_pct")(h)
    point = layers.Rescaling(1.0 / UNITS, name="point")(point)
    quantiles = layers.Rescaling(1.0 / UNITS, name="quantiles")(quantiles)
    return keras.Model(inputs, {"point": point, "quantiles": quantiles}, name="stockpred")


def set_calibration(model: keras.Model, lower: float, upper: float) -> None:
    head = model.get_layer("quantiles_pct")
    head.calibration.assign(np.asarray([max(lower, 0.0), max(upper, 0.0)], dtype="float32"))


def set_point_scale(model: keras.Model, scale: float) -> None:
    model.get_layer("point_scale").scale.assign(np.asarray([max(scale, 0.0)], dtype="float32"))


def raw_offsets(model: keras.Model) -> np.ndarray:
    return np.asarray(model.get_layer("quantiles_pct").calibration.numpy())
