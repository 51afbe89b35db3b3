from __future__ import annotations

from features.definitions import (
    ALL_FEATURES,
    EARNINGS_FEATURES,
    FEATURE_LABELS,
    PERCENT_FEATURES,
    TECHNICAL_FEATURES,
    USD_FEATURES,
)


def test_it_has_the_20_plus_17_features_of_the_architecture() -> None:
    assert len(TECHNICAL_FEATURES) == 20 and len(EARNINGS_FEATURES) == 17
    assert len(set(ALL_FEATURES)) == 37


def test_it_labels_every_feature_and_only_features() -> None:
    assert set(FEATURE_LABELS) == set(ALL_FEATURES)
    assert set(ALL_FEATURES) >= PERCENT_FEATURES
    assert set(ALL_FEATURES) >= USD_FEATURES
    assert not PERCENT_FEATURES & USD_FEATURES
