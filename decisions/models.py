"""Stored decisions data: the market regime of each trading day."""

from __future__ import annotations

from django.db import models


class Regime(models.TextChoices):
    CALM = "calm", "Calm"
    NORMAL = "normal", "Normal"
    TURBULENT = "turbulent", "Turbulent"


class MarketRegime(models.Model):
    """One row per trading day: its regime, labelled from S&P 500 returns BEFORE that day
    (``decisions.regime`` states the method)."""

    date = models.DateField(unique=True)
    regime = models.CharField(max_length=16, choices=Regime.choices)
    probability = models.FloatField(help_text="Probability of the labelled regime")
    probabilities = models.JSONField(help_text="Probability of every regime")
    model_version = models.CharField(max_length=64, help_text="Which yearly fit labelled it")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date} {self.regime} {self.probability:.2f}"
