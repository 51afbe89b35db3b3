#!/usr/bin/env bash
# Start one inference worker per GPU, each pinned with CUDA_VISIBLE_DEVICES, or one CPU worker
# when no GPU is visible. Needs requirements-gpu.txt installed for the CUDA path
# (onnxruntime-gpu; never install it beside onnxruntime).
#   worker/start_inference_workers.sh            # all GPUs of this machine
#   GPUS="0 2" worker/start_inference_workers.sh # a subset
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
if [ -z "${GPUS:-}" ] && command -v nvidia-smi >/dev/null 2>&1; then
  GPUS=$(nvidia-smi --query-gpu=index --format=csv,noheader | tr '\n' ' ')
fi
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM
if [ -z "${GPUS:-}" ]; then
  echo "No GPU found: starting one CPU inference worker"
  INFERENCE_DEVICE=cpu $PY -m celery -A config worker -Q inference -c 1 -n "inference-cpu@%h" &
  pids+=($!)
else
  for gpu in $GPUS; do
    echo "Starting inference worker on GPU $gpu"
    CUDA_VISIBLE_DEVICES=$gpu INFERENCE_DEVICE=cuda \
      $PY -m celery -A config worker -Q inference -c 1 -n "inference-gpu$gpu@%h" &
    pids+=($!)
  done
fi
wait
