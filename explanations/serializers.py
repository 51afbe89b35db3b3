"""Request and response shapes of the explanation API (also drive the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from explanations.models import ExplanationDepth


class ExplanationRequestSerializer(serializers.Serializer[Any]):
    depth = serializers.ChoiceField(choices=ExplanationDepth.values, default="medium")


class JobAcceptedSerializer(serializers.Serializer[Any]):
    job_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["processing", "completed"])
    estimated_time_sec = serializers.IntegerField()


class SourceSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()
    excerpt = serializers.CharField()
    relevance = serializers.FloatField()
    source = serializers.CharField(required=False)  # type: ignore[assignment]
    date = serializers.DateField(required=False, allow_null=True)
    url = serializers.CharField(required=False, allow_blank=True)


class DriverSerializer(serializers.Serializer[Any]):
    feature = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    value = serializers.FloatField()
    display_value = serializers.CharField()
    contribution = serializers.FloatField(help_text="Change of the predicted return (fraction)")
    direction = serializers.ChoiceField(choices=["up", "down"])
    text = serializers.CharField()


class GroundingSerializer(serializers.Serializer[Any]):
    passed = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    numbers_checked = serializers.IntegerField(required=False)


class ExplanationBodySerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    confidence = serializers.FloatField()
    key_drivers = serializers.ListField(child=serializers.CharField())
    key_driver_details = DriverSerializer(many=True, required=False)
    uncertainties = serializers.ListField(child=serializers.CharField())
    sources = SourceSerializer(many=True)
    generator = serializers.ChoiceField(choices=["llm", "template"])
    grounding = GroundingSerializer()
    generated_at = serializers.DateTimeField()


class ExplanationCompletedSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["completed"])
    job_id = serializers.CharField(required=False)
    explanation = ExplanationBodySerializer()


class ExplanationProcessingSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["processing"])
    job_id = serializers.CharField()
    progress = serializers.FloatField()


class ExplanationNotFoundSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["not_found"])
    message = serializers.CharField()


class ReviewQuerySerializer(serializers.Serializer[Any]):
    date = serializers.DateField(help_text="The trading day the prediction was for (YYYY-MM-DD)")


class ReviewSerializer(serializers.Serializer[Any]):
    symbol = serializers.CharField()
    date = serializers.DateField(help_text="Target trading day of the prediction")
    data_date = serializers.DateField(help_text="Day of the data the prediction was made from")
    model_type = serializers.CharField()
    model_version = serializers.CharField()
    predicted_return = serializers.FloatField()
    realised_return = serializers.FloatField()
    error = serializers.FloatField(help_text="Realised minus predicted return")
    p10 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)
    inside_interval = serializers.BooleanField(allow_null=True)
    market_return = serializers.FloatField(allow_null=True, help_text="S&P 500 return that day")
    beta = serializers.FloatField(allow_null=True, help_text="Beta over the 120 days before")
    market_explained_return = serializers.FloatField(allow_null=True, help_text="beta x market")
    earnings = serializers.DictField(allow_null=True, help_text="Reaction-day event, surprise")
    inputs_flagged = serializers.BooleanField(help_text="Bars quarantined as unusual before")
    flags = serializers.ListField(child=serializers.CharField())
    excerpt = SourceSerializer(allow_null=True)
    text = serializers.CharField()
    grounding = serializers.DictField()
