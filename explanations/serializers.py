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
