"""``replay_eval``: the live cycle's own code, day by day over stored daily bars, as fast as the
machine allows (no replay clock), scored on the outcomes it realises.

Per trading day d of [from, to]: the day's bars go through ingestion (``ingest_frame``, as the
replay clock's live mode stores them), the feature engine appends the day, the matrix travels
through the handoff (``features.handoff`` -> ``predictions.pipeline.sources``) and ``run_cycle``
routes, infers in batches, adapts the intervals, dual-writes and realises - the code the Celery
chain runs. Then the realised records are scored (``predictions.replay_metrics``).

Isolation from the live platform: a scratch database (created from the migrations, dropped
afterwards) holds every row the replay writes, and a private ``redis-server`` on a free port
(started and stopped here) every key; the live database is only READ before the switch (the
active model versions) and the bars come from the live database or the replay price file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from core.enums import ONE_DAY_TYPES
from predictions.replay_metrics import summarize

log = logging.getLogger(__name__)

WARMUP_CALENDAR_DAYS = 420  # >= 252 trading days of history for the 1-year features
SCRATCH_DATABASE = "replay_eval"


@dataclass
class ReplayOptions:
    start: dt.date
    end: dt.date
    adapt: bool = True
    baseline: bool = True
    prices: str = "auto"  # "db" (live PriceBar), a CSV path, or "auto" (db when it covers)
    symbols: int = 0  # 0 = all; else the first N alphabetically (smaller runs)
    models: dict[str, str] = field(default_factory=dict)  # kind -> artifact dir (override)
    database: str = SCRATCH_DATABASE
    # Keep the scratch database afterwards: its PredictionRecord rows are the live cycle's own
    # stored, scored history (``backtest --source records --database NAME`` reads them). The
    # adaptation-off pass is then skipped, so the kept records are the adapted pass's.
    keep_database: bool = False


# --- what is read from the live platform before the switch ---------------------------------


def _model_rows(models: dict[str, str]) -> dict[str, dict[str, Any]]:
    """kind -> ModelVersion fields: ``models`` overrides, else the live ACTIVE versions."""
    from predictions.models import ModelStatus, ModelVersion

    found: dict[str, dict[str, Any]] = {}
    for mv in ModelVersion.objects.filter(status=ModelStatus.ACTIVE):
        if (Path(mv.artifact_path) / "model.onnx").exists():
            found[mv.kind] = {
                "version": mv.version,
                "artifact_path": mv.artifact_path,
                "metadata": mv.metadata,
            }
    for kind, directory in models.items():
        metadata = json.loads((Path(directory) / "metadata.json").read_text())
        found[kind] = {
            "version": str(metadata.get("version") or Path(directory).name),
            "artifact_path": str(directory),
            "metadata": metadata,
        }
    if "normal" not in found:
        raise SystemExit("no normal-day model: activate one or pass --model normal=DIR")
    return found


def _ensure_ood(models: dict[str, dict[str, Any]], prices: str) -> dict[str, str]:
    """Versions trained before the OOD statistics existed get them here, with the training
    lifecycle's own function on the version's own windows (the last two training years, a
    sample, and its validation year), never on replayed days. Only the scratch copy of the
    version's metadata is changed; the artifact is read-only."""
    from features.dataset import build_dataset
    from features.panel import Panel
    from predictions.ood import fit_stats

    how: dict[str, str] = {}
    for kind, info in models.items():
        metadata = info["metadata"]
        if metadata.get("ood"):
            how[kind] = "stored with the version"
            continue
        window = metadata.get("training_window") or {}
        if not {"train_end", "val_start", "val_end"} <= set(window):
            how[kind] = "none: the version records no training window"
            continue
        train_end = dt.date.fromisoformat(window["train_end"])
        val_start = dt.date.fromisoformat(window["val_start"])
        val_end = dt.date.fromisoformat(window["val_end"])
        train_start = train_end - dt.timedelta(days=730)
        source = prices if prices not in ("auto", "db") else str(settings.REPLAY_PRICES_FILE)
        panel = Panel.from_csv(source, start=train_start - dt.timedelta(days=400), end=val_end)
        ds = build_dataset(panel, start=train_start, end=val_end)
        from features.definitions import ALL_FEATURES

        cols = [list(ALL_FEATURES).index(f) for f in metadata["features"]]
        dates = np.asarray(ds.dates, dtype="datetime64[D]")
        rows = ~np.asarray(ds.is_earnings_day) if kind == "normal" else np.ones(len(dates), bool)
        train = rows & (dates <= np.datetime64(train_end))
        val = rows & (dates >= np.datetime64(val_start)) & (dates <= np.datetime64(val_end))
        metadata["ood"] = fit_stats(ds.X[train][:, cols], ds.X[val][:, cols])
        how[kind] = (
            f"computed here by predictions.ood.fit_stats: train {train_start}..{train_end}, "
            f"validation {val_start}..{val_end}"
        )
    return how


def _panel(options: ReplayOptions) -> Any:
    from features.panel import Panel

    start = options.start - dt.timedelta(days=WARMUP_CALENDAR_DAYS)
    end = options.end + dt.timedelta(days=7)  # the last prediction's target day
    source = options.prices
    if source in ("auto", "db"):
        panel = Panel.from_db(start=start, end=end)
        covered = len(panel.dates) and panel.dates[-1] >= np.datetime64(options.end, "D")
        if source == "db" or covered:
            return _subset(panel, options.symbols)
        source = str(settings.REPLAY_PRICES_FILE)
    return _subset(Panel.from_csv(source, start=start, end=end), options.symbols)


def _subset(panel: Any, symbols: int) -> Any:
    if symbols and symbols < len(panel.tickers):
        return panel.select(np.sort(panel.tickers)[:symbols])
    return panel


# --- private Redis ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own (no persistence) for the replay's keys."""
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    break
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


# --- scratch database ---------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(name: str, *, keep: bool = False) -> Iterator[None]:
    """Point the default connection at a fresh database built from the migrations, and back
    (dropping it unless ``keep``)."""
    creation = connection.creation
    test_settings = connection.settings_dict.setdefault("TEST", {})
    saved_test_name = test_settings.get("NAME")
    test_settings["NAME"] = name
    old_name = connection.settings_dict["NAME"]
    creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        if keep:
            connection.close()
            connection.settings_dict["NAME"] = old_name
        else:
            _end_other_sessions(name)
            creation.destroy_test_db(old_name, verbosity=0)
        test_settings["NAME"] = saved_test_name


def _end_other_sessions(name: str) -> None:
    """Terminate what is still connected to the scratch database: a stopped process's backend
    can outlive it for a moment (still finishing its statement), and DROP DATABASE refuses a
    database "being accessed by other users" (seen at the end of a ``bench mixed``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )


def run(options: ReplayOptions) -> dict[str, Any]:
    """The replay evaluation's figures (see ``predictions.replay_metrics``)."""
    from predictions.replay_days import Replayer

    started = time.perf_counter()
    models = _model_rows(options.models)
    ood_source = _ensure_ood(models, options.prices)
    panel = _panel(options)
    loaded_s = time.perf_counter() - started
    keep = options.keep_database
    with private_redis() as url, scratch_database(options.database, keep=keep):
        layers = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        with override_settings(REDIS_URL=url, CHANNEL_LAYERS=layers):
            replayer = Replayer(panel, models, options, redis.Redis.from_url(url))
            main = replayer.pass_(adapt=options.adapt)
            baseline = None
            if options.adapt and options.baseline and not keep:
                replayer.reset()
                baseline = replayer.pass_(adapt=False)
    result: dict[str, Any] = {**summarize(main.frame), **main.extra}
    if baseline is not None:
        result["baseline"] = {**summarize(baseline.frame), **baseline.extra}
    result.update(
        adaptation=options.adapt,
        period={"from": options.start.isoformat(), "to": options.end.isoformat()},
        symbols=len(panel.tickers),
        models={k: f"{v['version']} ({v['artifact_path']})" for k, v in models.items()},
        prices=options.prices,
        ood_statistics=ood_source,
        seconds={"load": round(loaded_s, 1), "total": round(time.perf_counter() - started, 1)},
    )
    return result


def frame_of_records() -> pd.DataFrame:
    """The realised records of the (scratch) database as the metrics' frame."""
    from predictions.models import PredictionRecord

    rows = PredictionRecord.objects.filter(
        realised_return__isnull=False, model_type__in=ONE_DAY_TYPES
    ).values_list(
        "target_date", "model_type", "predicted_return_1d", "realised_return", "p10", "p90",
        "inside_interval", "abs_error", "ood_flagged",
    )  # fmt: skip
    columns = ["target_date", "model_type", "predicted", "realised", "p10", "p90", "inside"]
    return pd.DataFrame(list(rows), columns=[*columns, "abs_error", "ood_flagged"])
