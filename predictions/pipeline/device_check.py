"""Which device will the inference workers use, and at what batch size?

    python -m predictions.pipeline.device_check            # this host, settings as configured
    INFERENCE_DEVICE=cuda CUDA_VISIBLE_DEVICES=0 python -m predictions.pipeline.device_check

Prints one JSON object: onnxruntime's version and available providers, the providers the
runtime will ask for, and, for each kind with an active model, the provider its session really
got plus the measured batch-size table. Run it on a GPU host after installing
requirements-gpu.txt to confirm the CUDA path before starting worker/start_inference_workers.sh.
"""

from __future__ import annotations

import json
import os
from typing import Any


def report() -> dict[str, Any]:
    import onnxruntime as ort
    from django.conf import settings

    from predictions.pipeline import runtime

    out: dict[str, Any] = {
        "onnxruntime": ort.__version__,
        "available_providers": ort.get_available_providers(),
        "INFERENCE_DEVICE": settings.INFERENCE_DEVICE,
        "ORT_INTRA_OP_THREADS": settings.ORT_INTRA_OP_THREADS,
        "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "requested_providers": runtime.providers(),
        "models": {},
    }
    for kind in ("normal", "earnings"):
        try:
            model = runtime.get_model(kind)
        except runtime.ModelLoadError as exc:
            out["models"][kind] = {"error": str(exc)}
            continue
        out["models"][kind] = {
            "version": model.version,
            "provider": model.provider,
            "batch_size": model.batch.as_dict(),
        }
    return out


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(report(), indent=2))


if __name__ == "__main__":
    main()
