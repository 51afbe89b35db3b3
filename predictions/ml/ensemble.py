"""The LightGBM point head inside the served ONNX graph (``point_model`` of a kind).

``network`` (default): ``point`` is the network's shrunk point forecast, as before.
``lightgbm``: ``point = k * lightgbm(features)``.
``blend``: ``point = k * ((1 - w) * network + w * r * lightgbm)``, ``r = sd(network) /
sd(lightgbm)`` on the validation rows (so ``w`` mixes two forecasts of the same spread).

``w`` (the grid below, by the mean daily rank IC: the skill the issue asks for) and ``k`` (the
point shrinkage grid, by MAE) are chosen on the VALIDATION year only, the same rows that
calibrate the interval. The network's share ``k (1 - w)`` is the Keras ``point_scale`` weight,
the booster's ``k w r`` a constant of the combined graph, so one ``model.onnx`` keeps the
contract: input ``features`` float32 [batch, F] (NaN allowed), outputs ``point`` [batch, 1] and
``quantiles`` [batch, 3]; the quantile head is the network's, unchanged. The booster becomes an
``ai.onnx.ml`` ``TreeEnsembleRegressor`` through onnxmltools (``convert_lightgbm``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from predictions.ml import calibration, metrics

POINT_MODELS = ("network", "lightgbm", "blend")
WEIGHT_GRID = np.round(np.arange(0.0, 1.01, 0.1), 2)
TREES_OPSET = 15  # the highest opset onnxmltools' LightGBM converter supports
TREES_PREFIX = "lightgbm/"
NETWORK_POINT = "network_point"


def check_point_model(name: str) -> str:
    if name not in POINT_MODELS:
        raise ValueError(f"Unknown point model {name!r}; expected one of {POINT_MODELS}")
    return name


def _mean_rank_ic(pred: np.ndarray, y: np.ndarray, dates: np.ndarray) -> float:
    ics = metrics.daily_rank_ics(pred, y, dates)
    return float(np.mean(ics)) if ics.size else float("nan")


def choose_blend(
    point_model: str,
    y: np.ndarray,
    dates: np.ndarray,
    network: np.ndarray,
    lightgbm: np.ndarray,
    *,
    booster_in_return_units: bool = True,
    max_scale: float = calibration.MAX_SHRINK,
) -> dict[str, Any]:
    """Weight, rescale and shrinkage of the point head from validation rows (``network`` is the
    network's unshrunk point forecast, ``lightgbm`` the booster's). A booster not in return
    units (a rank target) is always rescaled to the network's spread."""
    y = np.asarray(y, dtype="float64")
    net, lgb = np.asarray(network, dtype="float64"), np.asarray(lightgbm, dtype="float64")
    sd_net, sd_lgb = float(np.std(net)), float(np.std(lgb))
    by_weight: dict[str, float] = {}
    if point_model == "lightgbm":
        weight = 1.0
        ok = not booster_in_return_units and sd_lgb > 0 and sd_net > 0
        rescale = sd_net / sd_lgb if ok else 1.0
    elif sd_lgb > 0 and sd_net > 0:
        rescale = sd_net / sd_lgb
        for w in WEIGHT_GRID:
            by_weight[f"{w:.1f}"] = _mean_rank_ic((1 - w) * net + w * rescale * lgb, y, dates)
        # Ties keep the smaller booster share (the first maximum).
        weight = float(WEIGHT_GRID[int(np.nanargmax(list(by_weight.values())))])
    else:  # a constant booster (or network) carries no ranking: nothing to blend
        weight, rescale = 0.0, 1.0
    combined = (1 - weight) * net + weight * rescale * lgb
    shrink = calibration.point_shrinkage(y, combined, max_scale)
    k = shrink["point_scale"]
    return {
        "point_model": point_model,
        "chosen_on": "validation year rows (the calibration rows; no test-year row)",
        "validation_rows": int(y.size),
        "lightgbm_weight": weight,
        "lightgbm_rescale": rescale,
        "point_scale": k,
        "point_scale_max": shrink["point_scale_max"],
        "network_coefficient": k * (1 - weight),
        "lightgbm_coefficient": k * weight * rescale,
        "validation_rank_ic_by_weight": {w: round(v, 6) for w, v in by_weight.items()},
        "validation_rank_ic": round(_mean_rank_ic(combined, y, dates), 6),
        "validation_rank_ic_network": round(_mean_rank_ic(net, y, dates), 6),
        "validation_rank_ic_lightgbm": round(_mean_rank_ic(lgb, y, dates), 6),
        "point_mae_validation_scaled": shrink["point_mae_validation_scaled"],
        "formula": "point = network_coefficient * network_point + lightgbm_coefficient * "
        "lightgbm(features); quantiles = the network's calibrated quantile head",
    }


def booster_onnx(booster: Any, n_features: int) -> Any:
    """The booster as an ONNX model: input ``features`` float32 [batch, F] -> [batch, 1]."""
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    # Through its text form (trees up to the best iteration): a reloaded booster names its
    # objective canonically ("regression_l1"), the one spelling the converter knows.
    saved = lgb.Booster(model_str=booster.model_to_string())
    model = convert_lightgbm(
        saved,
        initial_types=[("features", FloatTensorType([None, n_features]))],
        target_opset=TREES_OPSET,
        zipmap=False,
    )
    exact_thresholds(model, saved)
    return model


def _float32_at_most(value: float) -> float:
    """The largest float32 <= value: for a float32 input x, x <= t iff x <= this."""
    f = np.float32(value)
    if float(f) > value:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def _splits_per_tree(booster: Any) -> list[list[tuple[int, float]]]:
    out = []
    for tree in booster.dump_model()["tree_info"]:
        pairs, stack = [], [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                pairs.append((int(node["split_feature"]), float(node["threshold"])))
                stack += [node["left_child"], node["right_child"]]
        out.append(pairs)
    return out


def exact_thresholds(model: Any, booster: Any) -> None:
    """LightGBM compares x <= t in double; the converter stores t as the NEAREST float32, which
    can lie above t, so a float32 input equal to it would go left in the graph and right in
    LightGBM. Each split gets the largest float32 <= its double threshold instead (exact for
    float32 inputs). Thresholds are matched by tree, feature and their float32 value."""
    node = next(n for n in model.graph.node if n.op_type == "TreeEnsembleRegressor")
    attrs = {a.name: a for a in node.attribute}
    splits = _splits_per_tree(booster)
    fixed = []
    for tree, feature, mode, value in zip(
        attrs["nodes_treeids"].ints,
        attrs["nodes_featureids"].ints,
        attrs["nodes_modes"].strings,
        attrs["nodes_values"].floats,
        strict=True,
    ):
        if mode != b"BRANCH_LEQ":
            fixed.append(value)
            continue
        exact = {
            _float32_at_most(t)
            for f, t in splits[tree]
            if f == feature and np.float32(t) == np.float32(value)
        }
        # Two thresholds of one tree and feature on either side of one float32 (not seen in
        # practice) keep the converter's value: the export's parity check then decides.
        fixed.append(exact.pop() if len(exact) == 1 else value)
    attrs["nodes_values"].floats[:] = fixed


def _rename(graph: Any, old: str, new: str) -> None:
    for node in graph.node:
        node.input[:] = [new if name == old else name for name in node.input]
        node.output[:] = [new if name == old else name for name in node.output]


def combine(network: Any, trees: Any, lightgbm_coefficient: float) -> Any:
    """network's graph with ``point = network_point + c * trees(features)`` (in place)."""
    import onnx
    from onnx import helper, numpy_helper

    graph = network.graph
    _rename(graph, "point", NETWORK_POINT)
    tree_graph = trees.graph
    tree_out = tree_graph.output[0].name
    names = {t for n in tree_graph.node for t in n.output}
    for node in tree_graph.node:
        node.name = TREES_PREFIX + (node.name or node.op_type)
        node.input[:] = [TREES_PREFIX + t if t in names else t for t in node.input]
        node.output[:] = [TREES_PREFIX + t for t in node.output]
        graph.node.append(node)
    coefficient = np.asarray([[lightgbm_coefficient]], dtype="float32")
    graph.initializer.append(numpy_helper.from_array(coefficient, "lightgbm_coefficient"))
    graph.node.extend(
        [
            helper.make_node(
                "Mul", [TREES_PREFIX + tree_out, "lightgbm_coefficient"], ["lightgbm_point"]
            ),
            helper.make_node("Add", [NETWORK_POINT, "lightgbm_point"], ["point"]),
        ]
    )
    domains = {o.domain: o.version for o in network.opset_import}
    for o in trees.opset_import:
        if o.domain not in domains:
            network.opset_import.append(helper.make_opsetid(o.domain, o.version))
    onnx.checker.check_model(network)
    return network


def export_combined(network_path: Path, booster: Any, n_features: int, coefficient: float) -> None:
    """Rewrites ``network_path`` (the network's export) as the combined graph."""
    import onnx

    model = combine(onnx.load(str(network_path)), booster_onnx(booster, n_features), coefficient)
    network_path.write_bytes(model.SerializeToString())


def reference_predict(
    model: Any, booster: Any, coefficient: float, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What the combined graph must compute, from Keras and the Python booster."""
    from predictions.ml.baselines import predict_lightgbm
    from predictions.ml.fit import predict

    point, quantiles = predict(model, x)
    if coefficient:
        point = point + coefficient * predict_lightgbm(booster, x)
    return point, quantiles
