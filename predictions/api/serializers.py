"""Response serializers: they document the API (drf-spectacular) and shape the history rows."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from predictions.models import PredictionRecord


class UncertaintySerializer(serializers.Serializer[Any]):
    sigma = serializers.FloatField(
        allow_null=True, help_text="Normal-equivalent sigma of the p10-p90 interval (return)"
    )
    p10 = serializers.FloatField(allow_null=True, help_text="10th percentile of next-day return")
    p50 = serializers.FloatField(allow_null=True, help_text="Median next-day return")
    p90 = serializers.FloatField(allow_null=True, help_text="90th percentile of next-day return")
    method = serializers.CharField(
        allow_null=True, help_text="How the interval was made, e.g. quantile_conformal"
    )


class HorizonUncertaintySerializer(serializers.Serializer[Any]):
    sigma = serializers.FloatField(allow_null=True, help_text="Sigma of the h-day return")
    p10 = serializers.FloatField(allow_null=True, help_text="10th percentile of the h-day return")
    p50 = serializers.FloatField(allow_null=True, help_text="Median h-day return")
    p90 = serializers.FloatField(allow_null=True, help_text="90th percentile of the h-day return")
    method = serializers.CharField(allow_null=True)


class HorizonSerializer(serializers.Serializer[Any]):
    horizon = serializers.IntegerField(help_text="Trading days ahead: 1, 5 or 20")
    target_date = serializers.DateField(
        allow_null=True, help_text="Trading day whose close the forecast is for"
    )
    predicted_return = serializers.FloatField(
        allow_null=True, help_text="Predicted return close(t) -> close(target_date)"
    )
    predicted_price = serializers.FloatField(allow_null=True)
    uncertainty = HorizonUncertaintySerializer(
        allow_null=True, help_text="Null when this horizon's model was not active"
    )
    model_version = serializers.CharField(allow_null=True)


class PredictionSerializer(serializers.Serializer[Any]):
    symbol = serializers.CharField()
    current_price = serializers.FloatField(
        allow_null=True, help_text="Close the prediction starts from"
    )
    predicted_return_1d = serializers.FloatField(help_text="Predicted next-trading-day return")
    predicted_price = serializers.FloatField()
    uncertainty = UncertaintySerializer()
    model_type = serializers.ChoiceField(choices=["normal_day", "earnings_day"])
    model_version = serializers.CharField()
    predicted_at = serializers.DateTimeField(help_text="When the prediction was made (UTC)")
    data_timestamp = serializers.DateTimeField(
        allow_null=True, help_text="Time of the market data it was made from (UTC)"
    )
    data_freshness_sec = serializers.IntegerField(help_text="Seconds since predicted_at")
    features = serializers.DictField(
        allow_null=True,
        help_text="Feature values (null unless include_features=true); missing ones are null",
    )
    horizons = HorizonSerializer(
        many=True,
        required=False,
        help_text="Only with ?horizons=: the forecasts of the horizons asked, in that order",
    )


class BatchErrorSerializer(serializers.Serializer[Any]):
    symbol = serializers.CharField()
    code = serializers.CharField(help_text="not_found, not_predicted, prediction_unavailable, …")
    message = serializers.CharField()


class BatchSerializer(serializers.Serializer[Any]):
    results = PredictionSerializer(many=True)
    # A field named "errors" shadows Serializer.errors on purpose: it is the batch's contract.
    errors = BatchErrorSerializer(  # type: ignore[assignment]
        many=True, help_text="Symbols without a servable prediction"
    )


class HistoryUncertaintySerializer(serializers.Serializer[Any]):
    sigma = serializers.FloatField(source="uncertainty_sigma", allow_null=True)
    p10 = serializers.FloatField(allow_null=True)
    p50 = serializers.FloatField(allow_null=True)
    p90 = serializers.FloatField(allow_null=True)


class PredictionRecordSerializer(serializers.ModelSerializer[PredictionRecord]):
    uncertainty = HistoryUncertaintySerializer(source="*")

    class Meta:
        model = PredictionRecord
        fields = (
            "data_timestamp",
            "target_date",
            "model_type",
            "model_version",
            "current_price",
            "predicted_return_1d",
            "predicted_price",
            "uncertainty",
            "predicted_at",
            "realised_return",
            "abs_error",
            "inside_interval",
            "realised_at",
        )


class SymbolSerializer(serializers.Serializer[Any]):
    symbol = serializers.CharField(source="ticker")
    name = serializers.CharField()
    exchange = serializers.CharField()
    sector = serializers.CharField()


class SymbolListSerializer(serializers.Serializer[Any]):
    results = SymbolSerializer(many=True)


class AccuracyWindowSerializer(serializers.Serializer[Any]):
    n = serializers.IntegerField()
    mae = serializers.FloatField(allow_null=True)
    mae_naive = serializers.FloatField(allow_null=True, help_text="MAE of predicting 0 return")
    coverage_p10_p90 = serializers.FloatField(allow_null=True, help_text="Target 0.80")
    rank_ic = serializers.FloatField(allow_null=True)
    window_start = serializers.DateField(allow_null=True, help_text="Exclusive (target days)")
    window_end = serializers.DateField(allow_null=True, help_text="Inclusive (target days)")


class AccuracyKindSerializer(serializers.Serializer[Any]):
    _24h = AccuracyWindowSerializer()
    _30d = AccuracyWindowSerializer()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["24h"] = fields.pop("_24h")
        fields["30d"] = fields.pop("_30d")
        return fields


class MomentumSerializer(serializers.Serializer[Any]):
    n = serializers.IntegerField(help_text="Realised records with a momentum forecast")
    mae = serializers.FloatField(allow_null=True)
    rank_ic = serializers.FloatField(allow_null=True)


class AccuracyHorizonWindowSerializer(AccuracyWindowSerializer):
    momentum = MomentumSerializer(
        help_text="The momentum baseline (trailing h-day return at t) on the same records"
    )


class AccuracyHorizonSerializer(AccuracyKindSerializer):
    _24h = AccuracyHorizonWindowSerializer()
    _30d = AccuracyHorizonWindowSerializer()


class AccuracySerializer(serializers.Serializer[Any]):
    normal = AccuracyKindSerializer()
    earnings = AccuracyKindSerializer()
    horizon_5d = AccuracyHorizonSerializer(
        help_text="5-trading-day forecasts, realised 5 trading days after their data day"
    )
    horizon_20d = AccuracyHorizonSerializer(
        help_text="20-trading-day forecasts, realised 20 trading days after their data day"
    )
