"""The real-time prediction pipeline, one responsibility per module:

- ``days``: trading-day arithmetic (the ingestion calendar when present);
- ``routing``: earnings calendar -> which symbols go to the earnings model;
- ``runtime``: ONNX Runtime sessions, loaded once per worker process per model version;
- ``batching``: measuring the inference batch size instead of guessing it;
- ``records``: turning model outputs into prediction payloads (the contract's keys);
- ``writer``: dual write (the Redis prediction cache + PostgreSQL), idempotent;
- ``publisher``: one ``prediction.update`` per symbol to the Channels layer;
- ``sources``: where a worker gets the features of a trading day;
- ``status``: what the last cycle did (staleness: ``predictions.latest``);
- ``cycle``: one full cycle, stage by stage, with per-stage timings.
"""
