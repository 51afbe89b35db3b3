"""Lexicon scores of transcripts are real measurements: they move with the text."""

from __future__ import annotations

import numpy as np

from features.transcripts import score_text


def test_it_scores_tone_and_confidence_of_a_call():
    upbeat = (
        "We delivered record revenue and strong growth.\n"
        "We are confident we will exceed our targets, and we are raising our full-year guidance."
    )
    gloomy = (
        "Demand was weak and margins declined on difficult pricing and losses.\n"
        "Results may remain uncertain; we could see further pressure, "
        "so we are lowering our outlook."
    )
    up, down = score_text(upbeat), score_text(gloomy)
    assert up["sentiment"] == 1.0 and down["sentiment"] < -0.5
    assert up["confidence"] > 0.5 > down["confidence"]
    assert up["guidance"] == 1.0 and down["guidance"] == -1.0


def test_it_flips_negated_words_and_reports_missing_when_nothing_matches():
    assert score_text("Results were not strong.")["sentiment"] < 0
    empty = score_text("The call started at nine.")
    assert np.isnan(empty["sentiment"]) and np.isnan(empty["confidence"])
    assert np.isnan(empty["guidance"])
    assert score_text("We reaffirm our guidance for the year.")["guidance"] == 0.0
