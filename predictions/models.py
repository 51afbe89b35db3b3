"""Predictions: the latest one per symbol, the append-only history, and the model registry."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.enums import ModelKind, ModelType
from ingestion.models import Symbol

__all__ = [
    "IntervalCalibration",
    "ModelDecision",
    "ModelKind",
    "ModelRollout",
    "ModelStatus",
    "ModelType",
    "ModelVersion",
    "PipelineRun",
    "Prediction",
    "PredictionRecord",
    "RolloutStage",
    "ShadowRecord",
]


class Prediction(models.Model):
    """Exactly one row per symbol: the latest prediction (architecture section 2.2)."""

    symbol = models.OneToOneField(
        Symbol, on_delete=models.CASCADE, primary_key=True, related_name="prediction"
    )
    current_price = models.FloatField(
        help_text="Close at data_timestamp the prediction starts from"
    )
    predicted_return_1d = models.FloatField()
    predicted_price = models.FloatField()
    uncertainty_sigma = models.FloatField(null=True, blank=True)
    p10 = models.FloatField(null=True, blank=True)
    p50 = models.FloatField(null=True, blank=True)
    p90 = models.FloatField(null=True, blank=True)
    uncertainty_method = models.CharField(max_length=32, blank=True)
    model_type = models.CharField(max_length=16, choices=ModelType.choices)
    model_version = models.CharField(max_length=64)
    predicted_at = models.DateTimeField(db_index=True)
    data_timestamp = models.DateTimeField()
    features_snapshot = models.JSONField(null=True, blank=True)
    earnings_context = models.JSONField(null=True, blank=True)
    ood = models.JSONField(
        null=True, blank=True, help_text='{"score", "flagged"}: inputs unlike the training data'
    )
    horizons = models.JSONField(
        null=True,
        blank=True,
        help_text="Longer-horizon forecasts made with it, as in pred:{SYMBOL} (issue 19)",
    )

    class Meta:
        indexes = [models.Index(fields=["model_type"], name="prediction_model_type_idx")]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.predicted_return_1d:+.4f}"


class PredictionRecord(models.Model):
    """Append-only history: one row per prediction made, later joined with what happened.

    Idempotent by (symbol, data_timestamp, model_version): a redelivered batch rewrites nothing.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the idempotency key (symbol, data_timestamp, model_version) leads with
    # the symbol and serves every lookup by symbol; a second index cost each of the ~15,000
    # records a cycle inserts, and again each realised one, an index write (bench pipeline).
    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, related_name="prediction_records", db_index=False
    )
    data_timestamp = models.DateTimeField()
    target_date = models.DateField(null=True, blank=True, help_text="Trading day predicted")
    model_type = models.CharField(max_length=16, choices=ModelType.choices)
    model_version = models.CharField(max_length=64)
    current_price = models.FloatField()
    predicted_return_1d = models.FloatField()
    predicted_price = models.FloatField()
    uncertainty_sigma = models.FloatField(null=True, blank=True)
    p10 = models.FloatField(null=True, blank=True)
    p50 = models.FloatField(null=True, blank=True)
    p90 = models.FloatField(null=True, blank=True)
    predicted_at = models.DateTimeField()
    realised_return = models.FloatField(null=True, blank=True)
    abs_error = models.FloatField(null=True, blank=True)
    inside_interval = models.BooleanField(null=True, blank=True)
    realised_at = models.DateTimeField(null=True, blank=True)
    ood_score = models.FloatField(null=True, blank=True)
    ood_flagged = models.BooleanField(null=True, blank=True)
    # Cross-sectional ranks among the realised records of the same model type and target day
    # (set by predictions.accuracy.record_realised): the rank IC is their correlation, so the
    # daily accuracy aggregate can sum them instead of ranking raw rows at read time.
    rank_predicted = models.IntegerField(null=True, blank=True)
    rank_realised = models.IntegerField(null=True, blank=True)
    # An h-day record (model_type horizon_5d/horizon_20d, target_date = the h-th trading day
    # after t): the momentum baseline's forecast, the trailing h-day return at t.
    baseline_return = models.FloatField(null=True, blank=True)

    class Meta:
        # On TimescaleDB the table is a hypertable on data_timestamp and its primary key is
        # (id, data_timestamp) (predictions.time_series); the unique key below includes it.
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "data_timestamp", "model_version"],
                name="predrecord_idempotency_uniq",
            )
        ]
        # The realise rewrites every record once, on its target day: no index may cover a
        # column it sets (a partial index on ``realised_at IS NULL`` did), so that update can
        # be a heap-only tuple on the same page (the table's fillfactor leaves the room:
        # migration 0013) and writes no index entry. The cycle finds its due records by
        # (model type, target day); docs/performance.md has the measurements.
        indexes = [
            models.Index(fields=["model_type", "target_date"], name="predrecord_kind_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.data_timestamp:%Y-%m-%d} {self.model_version}"


class ModelStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class ModelVersion(models.Model):
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    version = models.CharField(max_length=64)
    artifact_path = models.CharField(max_length=500)
    metrics = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ModelStatus.choices, default=ModelStatus.CANDIDATE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "version"], name="modelversion_kind_version_uniq"
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status="active"),
                name="modelversion_one_active_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.version} ({self.status})"


class PipelineRun(models.Model):
    """One prediction cycle as it ran: what it served, how long each stage took, what failed.

    The durable half of the pipeline status (the fast half is Redis ``pipeline:status``), so a
    failed cycle is visible even when Redis was the thing that failed.
    """

    data_date = models.DateField(help_text="Trading day t whose close the cycle predicted from")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField(help_text="True when every stage succeeded for every symbol")
    n_symbols = models.IntegerField(default=0)
    n_earnings = models.IntegerField(default=0)
    n_predicted = models.IntegerField(default=0)
    model_versions = models.JSONField(default=dict, blank=True)
    stages_ms = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-started_at"], name="pipelinerun_started_idx")]

    def __str__(self) -> str:
        return f"{self.data_date} {'ok' if self.ok else 'errors'}"


class IntervalCalibration(models.Model):
    """The online interval calibration of one model kind (``predictions.intervals``).

    Belongs to one model version: the cycle resets it when another version is active. A row
    whose ``state`` cannot be read is left as it is for an operator (the cycle then serves the
    offline calibration and /healthz says so); deleting it restarts the adaptation."""

    kind = models.CharField(max_length=16, choices=ModelKind.choices, unique=True)
    model_version = models.CharField(max_length=64)
    alpha = models.FloatField(help_text="ACI miss level alpha_t (nominal 0.2)")
    scale = models.FloatField(
        null=True, blank=True, help_text="Last scale served (null: offline calibration)"
    )
    state = models.JSONField(default=dict, blank=True)
    n_days = models.IntegerField(default=0, help_text="Realised target days in the window")
    last_target_date = models.DateField(null=True, blank=True)
    reset_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.model_version} scale={self.scale}"


class ConsistencyRun(models.Model):
    """One run of the hourly Redis-vs-PostgreSQL check (architecture 12.3,
    ``predictions.consistency``): what it compared, what differed, what it repaired."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    checked = models.IntegerField(default=0, help_text="Prediction rows in PostgreSQL")
    matched = models.IntegerField(default=0)
    missing = models.IntegerField(default=0, help_text="No (readable) pred:{SYMBOL} in Redis")
    mismatched = models.IntegerField(default=0, help_text="Redis value differs from PostgreSQL")
    ahead = models.IntegerField(
        default=0, help_text="Redis newer than PostgreSQL (a cycle in flight): left alone"
    )
    repaired = models.IntegerField(default=0)
    mismatch_ratio = models.FloatField(default=0.0, help_text="mismatched / checked")
    examples = models.JSONField(default=list, blank=True, help_text="Some differing symbols")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.mismatched}/{self.checked} mismatched"


class ShadowRecord(models.Model):
    """A prediction made but NEVER served (issue 22): a shadow version's forecast of a symbol,
    or the other version's forecast of a canary symbol. Realised like ``PredictionRecord``
    (``predictions.accuracy.record_realised``) so both versions can be compared on the same
    (symbol, target day); no user-facing reader (Redis ``pred:``, the API, the WebSocket feed,
    the site) ever reads this table (``predictions.rollout_compare`` and the admin do)."""

    id = models.BigAutoField(primary_key=True)
    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="shadow_records")
    data_timestamp = models.DateTimeField()
    target_date = models.DateField(null=True, blank=True)
    model_type = models.CharField(max_length=16, choices=ModelType.choices)
    model_version = models.CharField(max_length=64)
    current_price = models.FloatField()
    predicted_return_1d = models.FloatField()
    p10 = models.FloatField(null=True, blank=True)
    p50 = models.FloatField(null=True, blank=True)
    p90 = models.FloatField(null=True, blank=True)
    predicted_at = models.DateTimeField()
    realised_return = models.FloatField(null=True, blank=True)
    abs_error = models.FloatField(null=True, blank=True)
    inside_interval = models.BooleanField(null=True, blank=True)
    realised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # One unique index serves both idempotency and the rollout comparison's lookup of a
        # version's rows by data day (every index costs the cycle's shadow write time).
        constraints = [
            models.UniqueConstraint(
                fields=["model_type", "model_version", "data_timestamp", "symbol"],
                name="shadowrecord_idempotency_uniq",
            )
        ]
        indexes = [
            models.Index(
                fields=["target_date"],
                condition=Q(realised_at__isnull=True),
                name="shadowrecord_unrealised_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.data_timestamp:%Y-%m-%d} {self.model_version} (shadow)"


class RolloutStage(models.TextChoices):
    SHADOW = "shadow", "Shadow (predicts, never served)"
    CANARY = "canary", "Canary (serves a share of symbols)"
    FULL = "full", "Full (active; the previous version watched in shadow)"
    DONE = "done", "Done"
    ROLLED_BACK = "rolled_back", "Rolled back"


IN_PROGRESS_STAGES = (RolloutStage.SHADOW, RolloutStage.CANARY, RolloutStage.FULL)


class ModelRollout(models.Model):
    """The live rollout of a candidate version against the version it would replace (issue
    22): shadow -> canary -> full -> done, or rolled back. While it is in progress both versions
    predict every symbol of the kind in the same batched pass; one is served per symbol, the
    other's forecast goes to ``ShadowRecord``. At most one rollout in progress per kind."""

    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    candidate = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    previous = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=16, choices=RolloutStage.choices)
    share = models.FloatField(default=0.0, help_text="Share of symbols the candidate serves")
    started_at = models.DateTimeField()
    stage_started_at = models.DateTimeField()
    stage_since = models.DateField(
        null=True, blank=True, help_text="Data day of the latest cycle when the stage started"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="Last live comparison")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(stage__in=["shadow", "canary", "full"]),
                name="modelrollout_one_in_progress_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.candidate.version} vs {self.previous.version}: {self.stage}"

    @property
    def in_progress(self) -> bool:
        return self.stage in IN_PROGRESS_STAGES


class ModelDecision(models.Model):
    """A stage change of a rollout, automatic or by an operator, with the figures behind it."""

    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    version = models.CharField(max_length=64, help_text="The candidate version")
    previous_version = models.CharField(max_length=64, blank=True)
    rollout = models.ForeignKey(
        ModelRollout, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    from_stage = models.CharField(max_length=16, blank=True)
    to_stage = models.CharField(max_length=16)
    reason = models.TextField()
    figures = models.JSONField(default=dict, blank=True)
    automatic = models.BooleanField(default=True)
    actor = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "-at"], name="modeldecision_kind_at_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.version}: {self.from_stage or '-'} -> {self.to_stage}"
