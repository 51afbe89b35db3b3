"""Fixtures of the explanation tests: a real ONNX model meeting the artifact contract, a symbol
with a prediction that model made, and local HTTP servers that speak EDGAR's and Ollama's
protocols."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

TECHNICAL = [
    "return_1d", "return_5d", "return_20d", "return_60d", "return_120d", "return_252d",
    "volatility_5d", "volatility_20d", "volatility_60d", "volume_ratio_5d", "volume_ratio_20d",
    "dollar_volume", "market_beta", "market_return", "market_volatility", "rsi_14", "macd",
    "sma_50_200_cross", "bollinger_position", "atr",
]  # fmt: skip

# A linear model: point = sum(w_i * x_i) + b with NaN -> median imputation inside the graph.
WEIGHTS = np.zeros(20, dtype=np.float32)
WEIGHTS[2] = 0.05  # return_20d
WEIGHTS[7] = -0.02  # volatility_20d
WEIGHTS[15] = 0.0004  # rsi_14
MEDIANS = np.zeros(20, dtype=np.float32)
MEDIANS[2] = 0.01
MEDIANS[7] = 0.25
MEDIANS[15] = 50.0
BIAS = 0.001

FEATURES = {
    "return_1d": 0.0026,
    "return_5d": 0.0142,
    "return_20d": 0.082,
    "volatility_20d": 0.42,
    "rsi_14": 62.5,
    "market_beta": 1.35,
    "dollar_volume": 1.52e9,
}


def linear_point(features: dict[str, float]) -> float:
    x = np.array([features.get(n, MEDIANS[i]) for i, n in enumerate(TECHNICAL)], np.float32)
    return float(x @ WEIGHTS + BIAS)


def build_onnx(directory: Path) -> Path:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inp = helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", 20])
    point = helper.make_tensor_value_info("point", TensorProto.FLOAT, ["batch", 1])
    quantiles = helper.make_tensor_value_info("quantiles", TensorProto.FLOAT, ["batch", 3])
    inits = [
        numpy_helper.from_array(MEDIANS.reshape(1, 20), "medians"),
        numpy_helper.from_array(WEIGHTS.reshape(20, 1), "w"),
        numpy_helper.from_array(np.array([BIAS], np.float32), "b"),
        numpy_helper.from_array(np.array([[-0.02, 0.0, 0.03]], np.float32), "offsets"),
    ]
    nodes = [
        helper.make_node("IsNaN", ["features"], ["nan_mask"]),
        helper.make_node("Where", ["nan_mask", "medians", "features"], ["imputed"]),
        helper.make_node("MatMul", ["imputed", "w"], ["mm"]),
        helper.make_node("Add", ["mm", "b"], ["point"]),
        helper.make_node("Add", ["point", "offsets"], ["quantiles"]),
    ]
    graph = helper.make_graph(nodes, "linear", [inp], [point, quantiles], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    directory.mkdir(parents=True, exist_ok=True)
    onnx.save(model, directory / "model.onnx")
    metadata = {
        "kind": "normal",
        "version": "test-linear-1",
        "model_type": "normal_day",
        "features": TECHNICAL,
        "input_name": "features",
        "outputs": ["point", "quantiles"],
        "sigma_method": "(p90 - p10) / (2 * 1.2815516)",
        "uncertainty_method": "fixed_offsets",
    }
    (directory / "metadata.json").write_text(json.dumps(metadata))
    return directory


@pytest.fixture
def onnx_model(tmp_path):
    from predictions.models import ModelVersion

    directory = build_onnx(tmp_path / "normal" / "test-linear-1")
    return ModelVersion.objects.create(
        kind="normal", version="test-linear-1", artifact_path=str(directory), status="active"
    )


def make_prediction(symbol: str = "NVDA", features: dict[str, float] | None = None):
    from ingestion.models import Symbol
    from predictions.models import Prediction

    features = FEATURES if features is None else features
    sym, _ = Symbol.objects.get_or_create(ticker=symbol, defaults={"name": symbol})
    point = linear_point(features)
    snapshot = {n: features.get(n) for n in TECHNICAL}
    return Prediction.objects.update_or_create(
        symbol=sym,
        defaults={
            "current_price": 150.55,
            "predicted_return_1d": point,
            "predicted_price": 150.55 * (1 + point),
            "uncertainty_sigma": 0.05 / (2 * 1.2815516),
            "p10": point - 0.02,
            "p50": point,
            "p90": point + 0.03,
            "uncertainty_method": "fixed_offsets",
            "model_type": "normal_day",
            "model_version": "test-linear-1",
            "predicted_at": datetime(2025, 7, 9, 21, 0, tzinfo=UTC),
            "data_timestamp": datetime(2025, 7, 9, tzinfo=UTC),
            "features_snapshot": snapshot,
        },
    )[0]


@pytest.fixture
def prediction(onnx_model):
    return make_prediction()


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict] = []


@pytest.fixture
def http_server() -> Iterator[Callable]:
    """``start(routes)`` serves ``{(method, path): handler(request_dict) -> (status, headers,
    body_bytes | iterator of bytes)}`` on 127.0.0.1 and returns (base_url, recorder)."""
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict) -> tuple[str, Recorder]:
        recorder = Recorder()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 2  # an idle keep-alive connection does not hold the shutdown

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = {
                    "method": method,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": body,
                    "time": __import__("time").monotonic(),
                }
                recorder.requests.append(request)
                handler = routes.get((method, self.path.split("?")[0]))
                if handler is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, headers, payload = handler(request)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if isinstance(payload, bytes | bytearray):
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                else:  # streamed (chunked transfer encoding)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for piece in payload:
                            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                            self.wfile.flush()
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading after the final "done" line

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def log_message(self, *args) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
