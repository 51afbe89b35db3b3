"""Market and reference data: symbols, price bars, earnings events, fundamentals.

Conventions every module relies on:
- Prices are split-adjusted floats (the shared data is adjusted; yfinance is asked for adjusted).
- A daily bar (``interval="1d"``) is stamped at 00:00 UTC of its exchange trading date, so
  ``timestamp.date()`` is the trading date in America/New_York. Intraday bars are stamped at the
  start of the bar, in UTC.
- The market index (S&P 500, ticker ``^GSPC``) is a ``Symbol`` with ``asset_type="index"`` and its
  bars live in ``PriceBar`` like any other series.
"""

from __future__ import annotations

from django.db import models


class AssetType(models.TextChoices):
    EQUITY = "equity", "Equity"
    INDEX = "index", "Index"


class Symbol(models.Model):
    ticker = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=200, blank=True)
    exchange = models.CharField(max_length=16, blank=True)
    sector = models.CharField(max_length=100, blank=True)
    industry = models.CharField(max_length=150, blank=True)
    cik = models.CharField("CIK", max_length=10, blank=True, db_index=True)
    asset_type = models.CharField(max_length=8, choices=AssetType.choices, default=AssetType.EQUITY)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["ticker"]

    def __str__(self) -> str:
        return self.ticker


class Interval(models.TextChoices):
    DAY = "1d", "1 day"
    HOUR = "1h", "1 hour"
    FIVE_MINUTES = "5m", "5 minutes"
    MINUTE = "1m", "1 minute"


class PriceBar(models.Model):
    # A surrogate id keeps the admin and ORM simple; the natural key is the unique constraint.
    # On TimescaleDB the migration makes the primary key (id, timestamp), as hypertables need.
    id = models.BigAutoField(primary_key=True)
    # No separate index on symbol_id: the unique (symbol, interval, timestamp) index starts with
    # it and serves every lookup; one btree less to maintain makes bulk backfills faster.
    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, related_name="bars", db_index=False
    )
    timestamp = models.DateTimeField()
    interval = models.CharField(max_length=4, choices=Interval.choices, default=Interval.DAY)
    open = models.FloatField()
    high = models.FloatField()
    low = models.FloatField()
    close = models.FloatField()
    volume = models.FloatField()
    source = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "interval", "timestamp"], name="pricebar_symbol_interval_ts_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.interval} {self.timestamp:%Y-%m-%d %H:%M}"


class EarningsTiming(models.TextChoices):
    BEFORE_OPEN = "bmo", "Before market open"
    AFTER_CLOSE = "amc", "After market close"
    UNKNOWN = "unknown", "Unknown"


class EarningsEvent(models.Model):
    """One results release. ``date`` is the announcement (or 8-K filing) date as published;
    ``reaction_date`` is the trading day whose close-to-close return first reflects it."""

    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="earnings_events")
    date = models.DateField()
    reaction_date = models.DateField(null=True, blank=True, db_index=True)
    timing = models.CharField(
        max_length=8, choices=EarningsTiming.choices, default=EarningsTiming.UNKNOWN
    )
    eps_estimate = models.FloatField(null=True, blank=True)
    eps_actual = models.FloatField(null=True, blank=True)
    revenue_estimate = models.FloatField(null=True, blank=True)
    revenue_actual = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32)

    class Meta:
        ordering = ["symbol", "date"]
        constraints = [
            models.UniqueConstraint(fields=["symbol", "date"], name="earnings_symbol_date_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.date}"


class Fundamentals(models.Model):
    """Figures of one fiscal period from a 10-K/10-Q. ``available_on`` is the first date the
    figures may be used (point in time): the filing date when known, else a documented lag."""

    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="fundamentals")
    period_end = models.DateField()
    period_type = models.CharField(max_length=8, default="annual")
    fiscal_year = models.IntegerField(null=True, blank=True)
    available_on = models.DateField(null=True, blank=True)
    revenue = models.FloatField(null=True, blank=True)
    cost_of_revenue = models.FloatField(null=True, blank=True)
    gross_profit = models.FloatField(null=True, blank=True)
    operating_income = models.FloatField(null=True, blank=True)
    net_income = models.FloatField(null=True, blank=True)
    operating_cash_flow = models.FloatField(null=True, blank=True)
    capital_expenditures = models.FloatField(null=True, blank=True)
    free_cash_flow = models.FloatField(null=True, blank=True)
    total_assets = models.FloatField(null=True, blank=True)
    total_equity = models.FloatField(null=True, blank=True)
    total_debt = models.FloatField(null=True, blank=True)
    invested_capital = models.FloatField(null=True, blank=True)
    eps = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=32)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "fundamentals"
        ordering = ["symbol", "period_end"]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "period_end", "period_type"], name="fundamentals_period_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.period_type} {self.period_end}"


class IngestionRun(models.Model):
    """One ingestion (backfill, live cycle, or a quarantine release) and what it did.

    ``accepted`` = bars that passed validation = ``inserted + updated + unchanged``;
    ``received`` = ``accepted + quarantined + duplicates`` (identical copies of a bar in one batch
    are collapsed to one and counted in ``duplicates``), so nothing disappears uncounted.
    """

    class Mode(models.TextChoices):
        BACKFILL = "backfill", "Backfill"
        LIVE = "live", "Live cycle"
        RELEASE = "release", "Quarantine release"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        FAILED = "failed", "Failed"

    provider = models.CharField(max_length=16)
    mode = models.CharField(max_length=8, choices=Mode.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    params = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    received = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    inserted = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    unchanged = models.IntegerField(default=0)
    quarantined = models.IntegerField(default=0)
    quarantine_new = models.IntegerField(default=0)
    duplicates = models.IntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.mode} {self.provider} #{self.pk}"


class QuarantineReason(models.TextChoices):
    MISSING_PRICE = "missing_price", "Missing price"
    NON_POSITIVE_PRICE = "non_positive_price", "Non-positive price"
    HIGH_BELOW_LOW = "high_below_low", "High below low"
    OPEN_OUTSIDE_RANGE = "open_outside_range", "Open outside [low, high]"
    CLOSE_OUTSIDE_RANGE = "close_outside_range", "Close outside [low, high]"
    NEGATIVE_VOLUME = "negative_volume", "Negative or missing volume"
    ABSURD_VOLUME = "absurd_volume", "Absurd volume (more shares than any real day)"
    UNKNOWN_SYMBOL = "unknown_symbol", "Symbol not in the reference table"
    NOT_TRADING_DAY = "not_trading_day", "Not an NYSE trading day"
    CONFLICTING_DUPLICATE = "conflicting_duplicate", "Conflicting duplicate"
    JUMP_REVERTED = "jump_reverted", "Implausible jump reverted next day (bad tick)"
    JUMP_UNCONFIRMED = "jump_unconfirmed", "Implausible jump awaiting the next bar"


class QuarantinedBar(models.Model):
    """A bar that failed validation, kept with its raw values so an operator can release it.

    ``fingerprint`` (hash of ticker, interval, timestamp and the raw values) makes a re-run that
    meets the same dirty bar a no-op instead of a second row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RELEASED = "released", "Released (passed re-validation)"
        FORCED = "forced", "Force-stored by an operator"

    run = models.ForeignKey(
        IngestionRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="quarantined_bars",
    )
    ticker = models.CharField(max_length=16, db_index=True)
    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, null=True, blank=True, related_name="quarantined_bars"
    )
    interval = models.CharField(max_length=4, choices=Interval.choices, default=Interval.DAY)
    # Null only when the raw date itself was unparseable.
    timestamp = models.DateTimeField(null=True, blank=True, db_index=True)
    open = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    close = models.FloatField(null=True, blank=True)
    volume = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=16)
    reason = models.CharField(max_length=24, choices=QuarantineReason.choices, db_index=True)
    detail = models.TextField()
    fingerprint = models.CharField(max_length=40)
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "ticker", "timestamp"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="quarantinedbar_fingerprint_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.ticker} {self.timestamp:%Y-%m-%d} {self.reason}"
