"""Keras -> ONNX (tf2onnx) with the artifact contract: one input ``features`` float32 [batch, F]
of RAW values (NaN allowed), outputs ``point`` [batch, 1] and ``quantiles`` [batch, 3]."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

OPSET = 17
INPUT_NAME = "features"
OUTPUTS = ["point", "quantiles"]
PARITY_TOLERANCE = 1e-4


class ParityError(RuntimeError):
    pass


def export_onnx(model: Any, n_features: int, path: Path) -> None:
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec([None, n_features], tf.float32, name=INPUT_NAME),)

    @tf.function(input_signature=spec)  # type: ignore[untyped-decorator]
    def serve(features: Any) -> dict[str, Any]:
        out = model(features, training=False)
        return {
            "point": tf.identity(out["point"], name="point"),
            "quantiles": tf.identity(out["quantiles"], name="quantiles"),
        }

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    # tf2onnx names the dynamic batch dimension "unk__N"; call it "batch" for readers.
    for value in [*proto.graph.input, *proto.graph.output]:
        dim = value.type.tensor_type.shape.dim[0]
        if not dim.HasField("dim_value"):
            dim.dim_param = "batch"
    names = [o.name for o in proto.graph.output]
    if names != OUTPUTS or [i.name for i in proto.graph.input] != [INPUT_NAME]:
        raise RuntimeError(f"Unexpected ONNX signature: inputs/outputs {names}")
    path.write_bytes(proto.SerializeToString())


def onnx_session(path: Path, threads: int = 2) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_predict(session: Any, x: np.ndarray, batch: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    points, quantiles = [], []
    for start in range(0, len(x), batch):
        p, q = session.run(OUTPUTS, {INPUT_NAME: x[start : start + batch].astype("float32")})
        points.append(p.reshape(-1))
        quantiles.append(q)
    if not points:
        return np.zeros(0, dtype="float32"), np.zeros((0, 3), dtype="float32")
    return np.concatenate(points), np.concatenate(quantiles)


def parity_check(
    model: Any,
    onnx_path: Path,
    x: np.ndarray,
    expected: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Max |Keras - ONNX| over both outputs on real rows; raises above PARITY_TOLERANCE.
    ``expected`` replaces Keras' (point, quantiles), e.g. Keras plus the Python booster for a
    graph with the LightGBM point head (``ensemble.reference_predict``)."""
    from predictions.ml.fit import predict

    k_point, k_q = expected if expected is not None else predict(model, x)
    o_point, o_q = onnx_predict(onnx_session(onnx_path), x)
    diff = max(float(np.max(np.abs(k_point - o_point))), float(np.max(np.abs(k_q - o_q))))
    result = {
        "rows": len(x),
        "rows_with_nan": int(np.count_nonzero(np.isnan(x).any(axis=1))),
        "max_abs_diff": diff,
        "tolerance": PARITY_TOLERANCE,
        "runtime": "onnxruntime CPUExecutionProvider",
        "opset": OPSET,
        "all_finite": bool(np.isfinite(o_point).all() and np.isfinite(o_q).all()),
    }
    if not diff <= PARITY_TOLERANCE or not result["all_finite"]:
        raise ParityError(f"ONNX differs from Keras: {result}")
    return result
