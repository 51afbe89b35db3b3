"""Quarantine rows of real dirty bars, release (re-validate / force) and the admin pages."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from django.urls import reverse

from ingestion.models import PriceBar, QuarantinedBar, Symbol
from ingestion.pipeline import ingest_frame
from ingestion.quarantine import release
from ingestion.tests.conftest import SP500, US, real_bars

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _avb():
    return real_bars(SP500, ["AVB"], "2012-12-01", "2012-12-31")  # close 9.90749 on 12-21


def test_it_keeps_raw_values_reason_detail_and_run() -> None:
    s = ingest_frame(_avb(), provider="replay", mode="backfill")
    q = QuarantinedBar.objects.get()
    assert q.ticker == "AVB" and q.timestamp == dt.datetime(2012, 12, 21, tzinfo=UTC)
    assert (q.open, q.high, q.low, q.close) == (97.4383, 99.272, 97.4187, 9.90749)
    assert q.reason == "close_outside_range" and "close 9.90749 outside" in q.detail
    assert q.run_id == s["run_id"] and q.status == "pending" and q.created_at is not None
    assert not PriceBar.objects.filter(timestamp=q.timestamp).exists()


def test_it_keeps_a_bad_tick_rejected_on_release() -> None:
    ingest_frame(_avb(), provider="replay", mode="backfill")
    q = QuarantinedBar.objects.get()
    result = release([q.pk])
    assert result.still_rejected == {q.pk: "close_outside_range"}
    q.refresh_from_db()
    assert q.status == "pending"


def test_it_force_stores_only_with_a_reason() -> None:
    ingest_frame(_avb(), provider="replay", mode="backfill")
    q = QuarantinedBar.objects.get()
    with pytest.raises(ValueError, match="reason"):
        release([q.pk], force=True)
    result = release([q.pk], force=True, note="checked against the exchange: keep as printed")
    assert result.forced == [q.pk]
    q.refresh_from_db()
    assert q.status == "forced" and q.resolution_note.startswith("checked")
    assert q.timestamp is not None  # a held bar has its date
    bar = PriceBar.objects.get(symbol__ticker="AVB", timestamp=q.timestamp)
    assert bar.close == 9.90749 and bar.source == "quarantine"


def test_it_decides_a_held_jump_as_reverted_when_the_next_bar_returns() -> None:
    # ZVZZT 2024-04-23 (12.17 -> 63.97) arrives as the newest bar of a batch: held.
    zv = real_bars(US, ["ZVZZT"], "2024-04-01", "2024-04-30")
    # A backfill registers the symbol; its newest bar is the jump, held as in a live batch.
    ingest_frame(zv[zv["date"] <= "2024-04-23"], provider="replay", mode="backfill")
    q = QuarantinedBar.objects.get()
    assert q.reason == "jump_unconfirmed"
    # The real next bar (2024-04-24, 15.03) is back at the old level: it is accepted and the
    # held bar is re-decided as a reverted jump (a bad tick), still quarantined.
    s = ingest_frame(zv[zv["date"] == "2024-04-24"], provider="replay", mode="live")
    assert s["inserted"] == 1 and s["held_jumps"] == {"released": 0, "reverted": 1}
    q.refresh_from_db()
    assert (q.reason, q.status) == ("jump_reverted", "pending")
    assert q.timestamp is not None  # a held bar has its date
    assert not PriceBar.objects.filter(timestamp=q.timestamp).exists()


def test_it_releases_a_held_jump_when_the_next_bar_confirms_the_level() -> None:
    zv = real_bars(US, ["ZVZZT"], "2024-04-01", "2024-04-30")
    # A backfill registers the symbol; its newest bar is the jump, held as in a live batch.
    ingest_frame(zv[zv["date"] <= "2024-04-23"], provider="replay", mode="backfill")
    q = QuarantinedBar.objects.get()
    # Alteration: the real 2024-04-24 bar scaled to the jump's level, as if the move were real.
    confirmed = zv[zv["date"] == "2024-04-24"].copy()
    confirmed[["open", "high", "low", "close"]] *= 63.97 / 15.03
    s = ingest_frame(confirmed, provider="replay", mode="live")
    assert s["inserted"] == 1 and s["held_jumps"] == {"released": 1, "reverted": 0}
    q.refresh_from_db()
    assert q.status == "released"
    assert q.timestamp is not None  # a held bar has its date
    assert PriceBar.objects.get(symbol__ticker="ZVZZT", timestamp=q.timestamp).close == 63.97


def _live_with_a_stranger():
    """A live batch of real AAPL and MSFT quotes plus a quote for ``ZZZQ``, a ticker in no
    reference list (alteration: a real AAPL bar relabelled, as a provider's junk row)."""
    history = real_bars(SP500, ["AAPL", "MSFT"], "2025-06-02", "2025-06-30")
    ingest_frame(history, provider="replay", mode="backfill")  # registers AAPL and MSFT
    day = real_bars(SP500, ["AAPL", "MSFT"], "2025-07-01", "2025-07-01")
    stranger = day[day["symbol"] == "AAPL"].assign(symbol="ZZZQ")
    return pd.concat([day, stranger], ignore_index=True)


def test_it_quarantines_quotes_of_unknown_symbols_and_stores_the_others() -> None:
    s = ingest_frame(_live_with_a_stranger(), provider="replay", mode="live")
    assert (s["received"], s["accepted"], s["quarantined"]) == (3, 2, 1)
    assert s["quarantine_reasons"] == {"unknown_symbol": 1}
    q = QuarantinedBar.objects.get()
    assert (q.ticker, q.reason, q.symbol_id) == ("ZZZQ", "unknown_symbol", None)
    assert "not in the symbols reference table" in q.detail
    assert not Symbol.objects.filter(ticker="ZZZQ").exists()  # not created behind our back
    day = dt.datetime(2025, 7, 1, tzinfo=UTC)
    stored = PriceBar.objects.filter(timestamp=day).values_list("symbol__ticker", flat=True)
    assert sorted(stored) == ["AAPL", "MSFT"]


def test_it_keeps_an_unknown_symbol_quarantined_until_forced() -> None:
    ingest_frame(_live_with_a_stranger(), provider="replay", mode="live")
    q = QuarantinedBar.objects.get()
    assert release([q.pk]).still_rejected == {q.pk: "unknown_symbol"}
    assert not Symbol.objects.filter(ticker="ZZZQ").exists()
    result = release([q.pk], force=True, note="new listing, confirmed with the exchange")
    assert result.forced == [q.pk]
    assert PriceBar.objects.filter(symbol__ticker="ZZZQ").count() == 1


def test_it_files_absurd_and_negative_volumes_under_their_own_reasons() -> None:
    day = real_bars(SP500, ["AAPL", "MSFT", "AVB"], "2025-07-01", "2025-07-01")
    # alterations: AAPL volume x1e6 (~5e13 shares, a unit error), MSFT volume negated
    day.loc[day["symbol"] == "AAPL", "volume"] *= 1e6
    day.loc[day["symbol"] == "MSFT", "volume"] *= -1
    s = ingest_frame(day, provider="replay", mode="backfill")
    assert s["accepted"] == 1 and s["quarantine_reasons"] == {
        "absurd_volume": 1,
        "negative_volume": 1,
    }
    reasons = dict(QuarantinedBar.objects.values_list("ticker", "reason"))
    assert reasons == {"AAPL": "absurd_volume", "MSFT": "negative_volume"}


def test_it_shows_and_releases_from_the_admin(client, users) -> None:
    from accounts.models import User

    ingest_frame(_avb(), provider="replay", mode="backfill")
    q = QuarantinedBar.objects.get()
    admin = User.objects.create_superuser("ops", "ops@example.org", "pw-for-ops-123")
    client.force_login(admin)
    page = client.get(reverse("admin:ingestion_quarantinedbar_changelist"))
    assert page.status_code == 200 and b"AVB" in page.content
    assert client.get(reverse("admin:ingestion_ingestionrun_changelist")).status_code == 200
    url = reverse("admin:ingestion_quarantinedbar_changelist")
    client.post(url, {"action": "force_store_selected", "_selected_action": [q.pk], "note": ""})
    q.refresh_from_db()
    assert q.status == "pending"  # refused without a reason
    client.post(
        url,
        {"action": "force_store_selected", "_selected_action": [q.pk], "note": "verified"},
    )
    q.refresh_from_db()
    assert q.status == "forced" and q.resolution_note == "verified"
