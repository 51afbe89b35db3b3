"""``python manage.py bench pipeline --symbols 5000 [--cycles 30] --json``: full live cycles.

Each cycle is what the Celery chain does for one trading day, run in-process stage by stage
against the real services (PostgreSQL, Redis, the Channels layer):

    ingest          validate + store the day's bars (``ingestion.pipeline.ingest_frame``)
    features        ``FeatureEngine.update``
    handoff         the whole feature matrix as one Redis value (``features.handoff``); then,
                    as the features task does after sending the prediction task, the
                    per-symbol hashes (``features.store.write_live``) on a helper thread (the
                    features worker) while the cycle runs
    feature_hashes_wait  what the cycle waited for those hashes after its own end (its wall
                    time includes them)
    read_features   the inference worker reading it back (``sources.from_redis``)
    realise         accuracy: outcomes of earlier predictions due this day; what it adds to the
                    cycle (it runs on a second connection from the cycle's start and is
                    joined after the dual write; ``realise_background``: its own duration)
    route           earnings calendar -> earnings / normal model
    inference       ONNX Runtime, batches of the measured size
    dual_write      wall time of the three below, which overlap (PostgreSQL works in its own
                    process while a helper thread writes Redis and publishes):
    write_postgres  one INSERT ... SELECT unnest(...) statement (Prediction upsert + history)
    write_redis     the prediction cache of every symbol, one pipelined round trip
    publish         prediction.update to every watched symbol group

A cycle's wall time is measured end to end (``cycles_ms``); the per-stage medians add up to
about it once the three overlapped stages are left out.

Universe: the first N symbols (alphabetical) of ``us_stocks_daily_last500_asof_2025-07-09``
(7,391 real symbols); the last ``--cycles`` trading days of the file are replayed after a
feature warm-up on the days before. Isolation: a scratch database ``bench_pipeline`` (created
from the migrations, dropped afterwards) and its own Redis database (``--redis-url``), so the
running platform's data and live WebSocket groups are never touched. Models: the platform's
ACTIVE trained version of each kind that has one (artifacts served read-only), else the toy
contract model (``predictions.pipeline.toy_model``) - the output says which. The 5- and 20-day
models (issue 19) run in the same cycles unless ``--no-horizons``. With ``--shadow`` the kinds of
``--shadow-kinds`` (default normal and earnings, the ones the weekly retrain retrains; ``all``)
also have a rollout in shadow (issue 22): a second version of the same artifact predicts every
symbol of the kind in the same pass and its forecasts are written to
``predictions_shadowrecord`` (``write_shadow``, on a second connection during the dual write),
what a live shadow run costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from core.benchmarks import Benchmark
from core.enums import HORIZONS
from core.timescale import storage_report
from predictions.replay_days import day_frame

if TYPE_CHECKING:
    pass

PRICES = "prices/us_stocks_daily_last500_asof_2025-07-09.csv.gz"
# The features worker's hash write, beside the inference of the same process (the GIL makes
# this slower than two processes: a conservative stand-in).
_HASHES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-feature-hashes")
STAGES = (
    "ingest",
    "features",
    "feature_hashes_wait",
    "handoff",
    "read_features",
    "realise",
    "realise_background",
    "route",
    "inference",
    "dual_write",
    "write_postgres",
    "write_redis",
    "publish",
    "write_shadow",
)


def _steady(cycle_ms: list[float]) -> dict[str, Any]:
    steady = cycle_ms[max(HORIZONS) :]
    return {
        "steady_cycles": len(steady),
        "steady_cycle_p50_ms": round(_percentile(steady, 50), 1) if steady else None,
        "steady_cycle_p95_ms": round(_percentile(steady, 95), 1) if steady else None,
    }


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q, method="linear"))


# The records' updates (the realise) and how many of them stayed on their page without index
# writes (heap-only tuples), over the table and its chunks, as the statistics collector counts.
_RECORD_UPDATES_SQL = """
SELECT coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0)
FROM {view}
WHERE relid = 'predictions_predictionrecord'::regclass
   OR relid IN (SELECT inhrelid FROM pg_inherits
                WHERE inhparent = 'predictions_predictionrecord'::regclass)
"""


def record_updates(cursor: Any, *, transaction_only: bool = False) -> dict[str, Any]:
    """The counts since the statistics began, or of this transaction only."""
    view = "pg_stat_xact_all_tables" if transaction_only else "pg_stat_all_tables"
    cursor.execute(_RECORD_UPDATES_SQL.format(view=view))
    updated, hot = cursor.fetchone()
    share = round(int(hot) / int(updated), 4) if updated else None
    return {"updated": int(updated), "hot": int(hot), "hot_share": share}


def _late_sweep() -> dict[str, Any]:
    """The hourly sweep of late outcomes over what the cycles stored: it reads every record of
    its 40 target days and realises the few whose bar came after their day's cycle (re-ranking
    their groups' peers)."""
    from predictions.accuracy import realise_late_outcomes

    started = time.perf_counter()
    realised = realise_late_outcomes()
    return {"ms": round((time.perf_counter() - started) * 1000, 1), "realised": realised}


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _process_cpu_s(pid: int) -> float:
    """user + system CPU seconds of a local process (the embedded PostgreSQL runs here)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _active_trained_models() -> dict[str, dict[str, Any]]:
    """The platform's active versions whose artifact exists (read before switching databases)."""
    from predictions.models import ModelVersion

    found = {}
    try:
        for mv in ModelVersion.objects.filter(status="active"):
            if (Path(mv.artifact_path) / "model.onnx").exists():
                found[mv.kind] = {
                    "version": mv.version,
                    "artifact_path": mv.artifact_path,
                    "metadata": mv.metadata,
                }
    except Exception:  # noqa: BLE001 - the dev database may not be migrated yet
        return {}
    return found


def _install_models(trained: dict[str, dict[str, Any]], *, horizons: bool) -> dict[str, str]:
    """Active versions in the scratch database: the platform's trained version of each kind
    that has one, the toy contract model for the others; with ``horizons`` the 5- and 20-day
    kinds too. Returns kind -> what serves it."""
    from core.enums import KIND_OF_HORIZON
    from features.definitions import ALL_FEATURES, TECHNICAL_FEATURES
    from predictions.models import ModelVersion
    from predictions.pipeline import toy_model

    root = Path(settings.VAR_DIR) / "bench" / "models"
    wanted = ["normal", "earnings", *(KIND_OF_HORIZON.values() if horizons else ())]
    used = {}
    for kind in wanted:
        if kind in trained:
            ModelVersion.objects.create(kind=kind, status="active", **trained[kind])
            used[kind] = f"trained {trained[kind]['version']}"
        else:
            features = ALL_FEATURES[:37] if kind == "earnings" else TECHNICAL_FEATURES
            toy_model.install(root, kind, f"bench-{kind}", list(features))
            used[kind] = "toy contract model"
    return used


def _install_shadows(kinds: list[str]) -> dict[str, str]:
    """A shadow rollout per kind: a candidate serving the active version's artifact under
    another version name (its own ONNX session), started in shadow."""
    from predictions.models import ModelStatus, ModelVersion
    from predictions.rollout.stages import start

    out = {}
    for kind in kinds:
        active = ModelVersion.objects.get(kind=kind, status=ModelStatus.ACTIVE)
        version = f"{active.version}-shadow"
        ModelVersion.objects.create(
            kind=kind, version=version, artifact_path=active.artifact_path,
            metadata=active.metadata, status=ModelStatus.CANDIDATE,
        )  # fmt: skip
        start(kind, version, reason="bench pipeline --shadow")
        out[kind] = version
    return out


class PipelineBenchmark(Benchmark):
    name = "pipeline"
    help = "Full live cycles (ingest -> features -> route -> inference -> dual write -> publish)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--symbols", type=int, default=5000)
        parser.add_argument(
            "--cycles",
            type=int,
            default=30,
            help="trading days replayed; the records of every horizon come due from the "
            f"{max(HORIZONS) + 1}st (the steady state of a live deployment)",
        )
        parser.add_argument("--watchers", type=int, default=100, help="symbol groups watched")
        parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
        parser.add_argument("--database", default="bench_pipeline")
        parser.add_argument(
            "--no-horizons",
            action="store_true",
            help="one-day models only (measures what the 5- and 20-day forecasts cost)",
        )
        parser.add_argument(
            "--shadow",
            action="store_true",
            help="run a candidate in shadow beside the active version (issue 22: what it costs)",
        )
        parser.add_argument(
            "--shadow-kinds",
            default="normal,earnings",
            help="kinds shadowed with --shadow: comma-separated, or 'all' (default: the kinds "
            "the weekly retrain retrains)",
        )
        parser.add_argument(
            "--no-snapshot",
            action="store_true",
            help="skip Prediction.features_snapshot (measures what the snapshot costs)",
        )

    def run(self, options: dict[str, Any]) -> dict[str, Any]:
        url = options["redis_url"]
        if redis.Redis.from_url(url).connection_pool.connection_kwargs.get("db", 0) == 0:
            raise SystemExit("--redis-url must not be database 0 (the running platform's)")
        trained = _active_trained_models()
        creation = connection.creation
        connection.settings_dict.setdefault("TEST", {})["NAME"] = options["database"]
        old_name = connection.settings_dict["NAME"]
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
        client = redis.Redis.from_url(url)
        client.flushdb()
        layers = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url], "capacity": 5000, "expiry": 30},
            }
        }
        try:
            with override_settings(REDIS_URL=url, CHANNEL_LAYERS=layers):
                out = self._cycles(options, client, trained)
            with connection.cursor() as cursor:
                # Which path ran: TimescaleDB hypertables or plain PostgreSQL; the cycles'
                # record updates, read before the sweep adds its own.
                storage, updates = storage_report(cursor), record_updates(cursor)
            return {
                "storage": storage,
                "record_updates": updates,
                **out,
                "late_sweep": _late_sweep(),
            }
        finally:
            client.flushdb()
            creation.destroy_test_db(old_name, verbosity=0)

    def _cycles(
        self, options: dict[str, Any], client: redis.Redis, trained: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        from channels import DEFAULT_CHANNEL_LAYER
        from channels.layers import channel_layers

        from core.groups import prediction_group
        from features import handoff, store
        from features.earnings import EarningsData
        from features.live import DayBars, FeatureEngine
        from features.panel import Panel
        from ingestion.models import EarningsEvent
        from ingestion.pipeline import ingest_frame
        from ingestion.storage import ensure_symbols, forget_symbol_cache
        from predictions.pipeline import runtime, sources
        from predictions.pipeline.cycle import run_cycle

        t0 = time.perf_counter()
        panel = Panel.from_csv(settings.SHARED_DATA_DIR / PRICES)
        n = min(options["symbols"], len(panel.tickers))
        panel = panel.select(np.sort(panel.tickers)[:n])
        tickers = panel.tickers
        cycles = min(options["cycles"], len(panel.dates) - 300)
        first = len(panel.dates) - cycles
        setup: dict[str, float] = {"csv_load_s": round(time.perf_counter() - t0, 2)}

        # --- untimed setup: symbols, the day before the first cycle, events, models, state ----
        t = time.perf_counter()
        forget_symbol_cache()
        ensure_symbols(tickers)
        ingest_frame(day_frame(panel, first - 1), provider="replay", mode="backfill")
        earnings = EarningsData.from_csv(tickers)
        events = earnings.events
        lo, hi = panel.dates[first - 1], panel.dates[-1] + np.timedelta64(10, "D")
        events = events[(events["reaction_date"] >= lo) & (events["reaction_date"] <= hi)]
        ids = ensure_symbols(tickers)
        EarningsEvent.objects.bulk_create(
            [
                EarningsEvent(
                    symbol_id=ids[row.ticker],
                    date=pd.Timestamp(row.date).date(),
                    reaction_date=pd.Timestamp(row.reaction_date).date(),
                    eps_estimate=None if np.isnan(row.eps_estimate) else row.eps_estimate,
                    source="bench",
                )
                for row in events.itertuples()
            ],
            ignore_conflicts=True,
        )
        models_used = _install_models(trained, horizons=not options["no_horizons"])
        wanted = options["shadow_kinds"]
        kinds = list(models_used) if wanted == "all" else wanted.split(",")
        shadows = (
            _install_shadows([k for k in kinds if k in models_used]) if options["shadow"] else {}
        )
        runtime.clear_cache()
        loaded = {kind: runtime.get_model(kind) for kind in models_used}
        engine = FeatureEngine(earnings)
        engine.full(panel.until(panel.dates[first - 1]))
        setup["setup_s"] = round(time.perf_counter() - t, 2)

        # Watchers: channels in symbol groups, as Daphne adds them for WebSocket clients.
        rng = np.random.default_rng(0)
        watched = rng.choice(tickers, size=min(options["watchers"], n), replace=False)
        watch_layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        loop = asyncio.new_event_loop()
        for ticker in watched:
            channel = loop.run_until_complete(watch_layer.new_channel())
            loop.run_until_complete(watch_layer.group_add(prediction_group(str(ticker)), channel))

        load_before = os.getloadavg()
        backend = _backend_pid()
        cpu_ms: dict[str, list[float]] = {"python": [], "postgres_backend": []}
        cycle_ms: list[float] = []
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        shares, predicted, errors, horizon_records, shadow_records = [], [], [], [], []
        for col in range(first, len(panel.dates)):
            day = pd.Timestamp(panel.dates[col]).date()
            started = time.perf_counter()
            cpu_py, cpu_pg = time.process_time(), _process_cpu_s(backend)
            t = time.perf_counter()
            ingest_frame(day_frame(panel, col), provider="replay", mode="live")
            stages["ingest"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            bars = DayBars(
                date=day,
                tickers=tickers,
                **{
                    f: getattr(panel, f)[:, col] for f in ("open", "high", "low", "close", "volume")
                },
            )
            live = engine.update(bars)
            stages["features"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            handoff.write_matrix(client, live)
            stages["handoff"].append((time.perf_counter() - t) * 1000)
            hashes = _HASHES.submit(store.write_live, live, client)
            t = time.perf_counter()
            inp = sources.from_redis(client, day, tickers=tickers.tolist())
            stages["read_features"].append((time.perf_counter() - t) * 1000)
            result, _ = run_cycle(inp, redis_client=client, snapshots=not options["no_snapshot"])
            t = time.perf_counter()
            hashes.result()
            stages["feature_hashes_wait"].append((time.perf_counter() - t) * 1000)
            cycle_ms.append((time.perf_counter() - started) * 1000)
            cpu_ms["python"].append((time.process_time() - cpu_py) * 1000)
            cpu_ms["postgres_backend"].append((_process_cpu_s(backend) - cpu_pg) * 1000)
            for name, ms in result.stages_ms.items():
                stages[name].append(ms)
            shares.append(result.n_earnings / max(result.n_symbols, 1))
            predicted.append(result.n_predicted)
            horizon_records.append(result.horizon_records_inserted)
            shadow_records.append(result.shadow_records_inserted)
            errors.extend(result.errors)

        # The Celery task's fallback when the features worker wrote no matrix: per-symbol hashes.
        client.delete(handoff.MATRIX_KEY.format(day.isoformat()))
        t = time.perf_counter()
        via_hashes = sources.from_redis(
            client, day, tickers=tickers.tolist(), names=inp.feature_names
        )
        hashes_ms = (time.perf_counter() - t) * 1000
        publish = self._publish_measurement(tickers, loop)
        loop.run_until_complete(watch_layer.flush())
        loop.close()
        return {
            "symbols": int(n),
            "cycles": len(cycle_ms),
            "days": [str(d) for d in panel.dates[first:]],
            "cycle_p50_ms": round(_percentile(cycle_ms, 50), 1),
            "cycle_p95_ms": round(_percentile(cycle_ms, 95), 1),
            "cycle_max_ms": round(max(cycle_ms), 1),
            # Once the longest horizon's first records come due, every cycle realises all
            # three horizons, as every live cycle does; the cycles before realise fewer.
            **_steady(cycle_ms),
            # CPU actually consumed per cycle (median) by this process (all threads) and by its
            # PostgreSQL backend: what a cycle costs without the other tenants of the machine.
            "cpu_ms_per_cycle": {k: round(statistics.median(v), 1) for k, v in cpu_ms.items()},
            "cycles_ms": [round(x, 1) for x in cycle_ms],
            "stages_ms": {s: round(statistics.median(v), 1) for s, v in stages.items() if v},
            # Per cycle: the realise grows with the horizons whose records come due (the 5-day
            # ones from the 6th cycle, the 20-day ones from the 21st: steady state after that).
            "realise_background_ms": [round(v, 1) for v in stages["realise_background"]],
            "symbols_per_s": round(n / (statistics.median(cycle_ms) / 1000), 0),
            "predicted_per_cycle": predicted,
            "earnings_share": round(float(np.mean(shares)), 5),
            "earnings_routed_per_cycle": [round(s * n) for s in shares],
            "models": models_used,
            "features_snapshot": not options["no_snapshot"],
            "horizons": not options["no_horizons"],
            "horizon_records_per_cycle": horizon_records,
            "shadow": shadows or None,
            "shadow_records_per_cycle": shadow_records,
            "inference": {
                kind: {
                    "provider": m.provider,
                    "intra_op_threads": settings.ORT_INTRA_OP_THREADS,
                    "batch_size": m.batch.as_dict(),
                }
                for kind, m in loaded.items()
            },
            "publish": publish,
            "read_features_from_hashes_ms": round(hashes_ms, 1),
            "read_features_from_hashes_symbols": len(via_hashes.tickers),
            "watched_groups": len(watched),
            "errors": sorted(set(errors))[:10],
            # The machine is shared: its load (1-min average) says how contended the run was.
            "loadavg_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
            **setup,
            "pid": os.getpid(),
        }

    def _publish_measurement(
        self, tickers: np.ndarray, loop: asyncio.AbstractEventLoop
    ) -> dict[str, Any]:
        """Why the publisher speaks the protocol in bulk: plain ``group_send`` to EVERY symbol
        group (concurrently in one loop; and one by one for the first 500) against the bulk
        path's live-member lookup over all groups."""
        from channels import DEFAULT_CHANNEL_LAYER
        from channels.layers import channel_layers

        from core.groups import PREDICTION_UPDATE_EVENT, prediction_group
        from predictions.pipeline import publisher

        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        message = {"type": PREDICTION_UPDATE_EVENT, "payload": {"symbol": "X"}}
        groups = [prediction_group(str(t)) for t in tickers]

        async def gather_all() -> None:
            sem = asyncio.Semaphore(publisher.SEND_CONCURRENCY)

            async def one(g: str) -> None:
                async with sem:
                    await layer.group_send(g, message)

            await asyncio.gather(*(one(g) for g in groups))

        async def sequential(k: int) -> None:
            for g in groups[:k]:
                await layer.group_send(g, message)

        loop.run_until_complete(sequential(10))  # connect the pool
        t = time.perf_counter()
        loop.run_until_complete(gather_all())
        gather_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        loop.run_until_complete(sequential(500))
        seq_ms = (time.perf_counter() - t) * 1000
        client = publisher._bulk_client(layer)
        t = time.perf_counter()
        members = publisher.live_members(layer, client, groups) if client else {}
        lookup_ms = (time.perf_counter() - t) * 1000
        loop.run_until_complete(layer.flush())
        return {
            "group_send_all_groups_gather_ms": round(gather_ms, 1),
            "group_send_sequential_500_groups_ms": round(seq_ms, 1),
            "bulk_live_member_lookup_ms": round(lookup_ms, 1),
            "groups": len(groups),
            "watched_found": len(members),
        }


BENCHMARKS = [PipelineBenchmark]
