"""Knowledge base for explanations: documents and their embedded chunks (pgvector)."""

from __future__ import annotations

from django.db import models
from pgvector.django import HnswIndex, VectorField

EMBEDDING_DIM = 384  # all-MiniLM-L6-v2


class DocumentSource(models.TextChoices):
    TRANSCRIPT = "transcript", "Earnings-call transcript"
    PLAYBOOK = "playbook", "Internal playbook"
    PATTERN = "pattern", "Historical pattern note"
    EDGAR = "edgar", "SEC EDGAR filing"


class Document(models.Model):
    source = models.CharField(max_length=16, choices=DocumentSource.choices)
    external_id = models.CharField(
        max_length=200, help_text="Stable id within the source, e.g. AAPL_q1_2021"
    )
    title = models.CharField(max_length=300)
    symbol = models.CharField(max_length=16, blank=True, db_index=True)
    filing_type = models.CharField(max_length=16, blank=True)
    section = models.CharField(max_length=200, blank=True)
    date = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    content_hash = models.CharField(max_length=64)
    metadata = models.JSONField(default=dict, blank=True)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="document_source_extid_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Chunk(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    chunk_index = models.IntegerField()
    text = models.TextField()
    # Denormalised from the document so retrieval filters without a join.
    source = models.CharField(max_length=16, choices=DocumentSource.choices)
    symbol = models.CharField(max_length=16, blank=True)
    filing_type = models.CharField(max_length=16, blank=True)
    section = models.CharField(max_length=200, blank=True)
    date = models.DateField(null=True, blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIM, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["document", "chunk_index"], name="chunk_doc_index_uniq")
        ]
        indexes = [
            HnswIndex(
                name="chunk_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=100,
                opclasses=["vector_cosine_ops"],
            ),
            models.Index(fields=["symbol", "source"], name="chunk_symbol_source_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.chunk_index}"


class ExplanationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ExplanationDepth(models.TextChoices):
    FAST = "fast", "Fast"
    MEDIUM = "medium", "Medium"
    DEEP = "deep", "Deep"


class Explanation(models.Model):
    """One explanation job and, once completed, its checked result (the API's ``explanation``
    object). The latest row per symbol is what ``GET /api/explanation/{symbol}`` reads when
    the Redis copy ``explanation:{SYMBOL}`` has expired."""

    job_id = models.CharField(max_length=40, unique=True)
    symbol = models.CharField(max_length=16)
    depth = models.CharField(
        max_length=8, choices=ExplanationDepth.choices, default=ExplanationDepth.MEDIUM
    )
    status = models.CharField(
        max_length=12, choices=ExplanationStatus.choices, default=ExplanationStatus.QUEUED
    )
    progress = models.FloatField(default=0.0)
    result = models.JSONField(null=True, blank=True)
    generator = models.CharField(max_length=16, blank=True, help_text="llm or template")
    grounding_passed = models.BooleanField(null=True, blank=True)
    prediction_data_timestamp = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["symbol", "-created_at"], name="explanation_symbol_recent")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.symbol} {self.status}"
