from __future__ import annotations

from features.definitions import (
    ALL_FEATURES,
    EARNINGS_FEATURES,
    FEATURE_LABELS,
    PERCENT_FEATURES,
    PRICE_FEATURES,
    PRICE_SLICE,
    TECHNICAL_FEATURES,
    USD_FEATURES,
)


def test_it_has_the_20_plus_17_features_of_the_architecture() -> None:
    assert len(TECHNICAL_FEATURES) == 20 and len(EARNINGS_FEATURES) == 17
    assert ALL_FEATURES[:37] == TECHNICAL_FEATURES + EARNINGS_FEATURES


def test_it_appends_the_price_action_features_after_the_first_37() -> None:
    assert len(PRICE_FEATURES) == 12
    assert ALL_FEATURES[PRICE_SLICE] == PRICE_FEATURES
    assert len(set(ALL_FEATURES)) == 49


def test_it_labels_every_feature_and_only_features() -> None:
    assert set(FEATURE_LABELS) == set(ALL_FEATURES)
    assert set(ALL_FEATURES) >= PERCENT_FEATURES
    assert set(ALL_FEATURES) >= USD_FEATURES
    assert not PERCENT_FEATURES & USD_FEATURES
