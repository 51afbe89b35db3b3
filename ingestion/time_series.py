"""How the price bars are stored as a time series (README "TimescaleDB"): on TimescaleDB a
hypertable of 90-day chunks, compressed after 30 days, never dropped (price history trains the
models); on plain PostgreSQL an ordinary table with a BRIN index on ``timestamp``."""

from core.timescale import TimeSeriesPolicy

PRICE_BARS = TimeSeriesPolicy(
    table="ingestion_pricebar",
    time_column="timestamp",
    chunk_interval="90 days",
    compress_after="30 days",
    retain_for=None,
    # Segments per series: a compressed batch holds one symbol's bars of one interval in time
    # order, which is how every reader scans them.
    segment_by="symbol_id, interval",
)
