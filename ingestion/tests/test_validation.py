"""Every validation rule, on real bars of the shared price files.

Found with a scan of both files (``sp500_members_daily_2005_2025``: 13 high<low, 6 open and 4
close outside [low, high]; ``us_stocks_daily_last500``: 20 reverted jumps). The files contain no
non-positive price, missing value, negative volume, non-trading day or duplicate; for those rules
a real bar is broken the way feeds break (the alteration is stated in each test).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ingestion.tests.conftest import SP500, US, real_bars, row
from ingestion.validation import MAX_DAILY_VOLUME, validate


def reasons(result) -> dict[tuple[str, str], str]:
    return {
        (r.symbol, str(pd.Timestamp(r.date).date())): r.reason
        for r in result.rejected.itertuples(index=False)
    }


@pytest.fixture(scope="module")
def sp500():
    return real_bars(SP500, ["FITB", "AVB", "HST", "PCG", "AAPL"], "2008-01-01", "2013-01-31")


def test_it_rejects_high_below_low_fitb_2008_03_28(sp500) -> None:
    bars = sp500[sp500["symbol"] == "FITB"]
    bad = row(bars, "FITB", "2008-03-28")
    assert bad["high"] == pytest.approx(1.41004) and bad["low"] == pytest.approx(13.5044)
    result = validate(bars)
    assert reasons(result) == {("FITB", "2008-03-28"): "high_below_low"}
    detail = result.rejected["detail"].iloc[0]
    assert "high 1.41004 < low 13.5044" in detail and "open 13.952 outside" in detail
    assert len(result.accepted) == len(bars) - 1


def test_it_rejects_open_outside_range_avb_2011_06_14(sp500) -> None:
    bars = sp500[(sp500["symbol"] == "AVB") & (sp500["date"] < "2012-01-01")]
    assert row(bars, "AVB", "2011-06-14")["open"] == pytest.approx(9.14687)
    assert reasons(validate(bars)) == {("AVB", "2011-06-14"): "open_outside_range"}


def test_it_rejects_close_outside_range_avb_2012_12_21(sp500) -> None:
    bars = sp500[(sp500["symbol"] == "AVB") & (sp500["date"] >= "2012-01-01")]
    assert row(bars, "AVB", "2012-12-21")["close"] == pytest.approx(9.90749)
    result = validate(bars)
    assert reasons(result) == {
        ("AVB", "2012-11-19"): "high_below_low",  # another real bad tick of that year
        ("AVB", "2012-12-21"): "close_outside_range",
    }
    # The decimal-shifted close was taken out before the jump rule, so the next real bar
    # (2012-12-24, back at ~98) is not mistaken for a x10 jump.
    assert pd.Timestamp("2012-12-24") in set(result.accepted["date"])


def test_it_quarantines_every_dirty_bar_of_hst_and_pcg(sp500) -> None:
    bars = sp500[sp500["symbol"].isin(["HST", "PCG"])]
    assert reasons(validate(bars)) == {
        ("HST", "2009-11-12"): "close_outside_range",  # close 0.765629 in [7.58, 7.80]
        ("HST", "2009-12-01"): "open_outside_range",  # open 0.765629
        ("PCG", "2010-08-17"): "open_outside_range",  # open 3.5557 vs ~35.5
        ("PCG", "2010-08-23"): "open_outside_range",
        ("PCG", "2012-09-27"): "high_below_low",  # high 3.5557 < low 35.208
        ("PCG", "2012-10-01"): "open_outside_range",
    }


def test_it_rejects_a_reverted_jump_zvzzt_2024_04_23() -> None:
    # ZVZZT is NASDAQ's test ticker: 12.17 -> 63.97 -> 15.03 in the real file.
    bars = real_bars(US, ["ZVZZT"], "2024-04-01", "2024-05-31")
    assert row(bars, "ZVZZT", "2024-04-23")["close"] == pytest.approx(63.97)
    result = validate(bars)
    assert reasons(result) == {("ZVZZT", "2024-04-23"): "jump_reverted"}
    assert "x5.26 the previous close 12.17" in result.rejected["detail"].iloc[0]


def test_it_holds_an_unconfirmed_jump_when_the_next_bar_is_unknown() -> None:
    # The same real ZVZZT bar as the newest bar of a live batch: its next close is not known.
    bars = real_bars(US, ["ZVZZT"], "2024-04-01", "2024-04-23")
    result = validate(bars)
    assert reasons(result) == {("ZVZZT", "2024-04-23"): "jump_unconfirmed"}


def test_it_uses_the_stored_previous_close_across_batches() -> None:
    bars = real_bars(US, ["ZVZZT"], "2024-04-23", "2024-04-30")  # starts at the jump bar
    assert reasons(validate(bars)) == {}  # no previous close: the rule cannot fire
    found = reasons(validate(bars, previous={"ZVZZT": 12.17}))  # the stored 2024-04-22 close
    assert found == {("ZVZZT", "2024-04-23"): "jump_reverted"}


def test_it_accepts_real_big_moves_that_are_not_bad_ticks() -> None:
    # GME 2021-01-27 (+135 %, then -44 %) and AIG 2008-09-16/17 are real moves.
    bars = real_bars(SP500, ["GME", "AIG"], "2008-09-01", "2021-02-28")
    found = reasons(validate(bars))
    assert not [k for k in found if k[0] in ("GME", "AIG")]


def test_it_accepts_real_zero_volume_days() -> None:
    # Real zero-volume bars: C 2009-08-05, 2009-12-17/18, 2010-04-26; GIS 2010-04-26 and
    # 2016-01-19 (o=h=l=c 43.8766): thin or halted days, not errors.
    sp = real_bars(SP500, ["C", "GIS"], "2009-01-01", "2016-12-31")
    zero = sp[sp["volume"] == 0]
    assert len(zero) == 6
    result = validate(sp)
    assert set(zip(zero["symbol"], zero["date"], strict=True)) <= set(
        zip(result.accepted["symbol"], result.accepted["date"], strict=True)
    )


def _aapl_week() -> pd.DataFrame:
    return real_bars(SP500, ["AAPL"], "2025-06-30", "2025-07-09")


def test_it_rejects_non_positive_prices() -> None:
    bars = _aapl_week()  # alteration: the real 2025-07-07 close set to 0 (a feed's "no trade")
    bars.loc[bars["date"] == "2025-07-07", "close"] = 0.0
    result = validate(bars)
    assert reasons(result) == {("AAPL", "2025-07-07"): "non_positive_price"}
    assert "close=0" in result.rejected["detail"].iloc[0]


def test_it_rejects_missing_prices() -> None:
    bars = _aapl_week()  # alteration: the real 2025-07-03 high left empty
    bars.loc[bars["date"] == "2025-07-03", "high"] = np.nan
    assert reasons(validate(bars)) == {("AAPL", "2025-07-03"): "missing_price"}


def test_it_rejects_negative_volume() -> None:
    bars = _aapl_week()  # alteration: the real 2025-07-08 volume negated
    bars.loc[bars["date"] == "2025-07-08", "volume"] *= -1
    assert reasons(validate(bars)) == {("AAPL", "2025-07-08"): "negative_volume"}


def test_it_rejects_a_bar_dated_on_a_holiday() -> None:
    bars = _aapl_week()  # alteration: the real 2025-07-03 bar stamped on Independence Day
    extra = bars[bars["date"] == "2025-07-03"].assign(date=pd.Timestamp("2025-07-04"))
    result = validate(pd.concat([bars, extra], ignore_index=True))
    assert reasons(result) == {("AAPL", "2025-07-04"): "not_trading_day"}


def test_it_rejects_conflicting_duplicates_and_collapses_identical_ones() -> None:
    bars = _aapl_week()
    same = bars[bars["date"] == "2025-07-01"]  # an exact re-delivery of the real bar
    other = bars[bars["date"] == "2025-07-02"].assign(close=lambda d: d["close"] + 0.5)
    result = validate(pd.concat([bars, same, other], ignore_index=True))
    assert result.duplicates == 1
    assert reasons(result) == {("AAPL", "2025-07-02"): "conflicting_duplicate"}
    assert (result.rejected["reason"] == "conflicting_duplicate").sum() == 2  # both copies
    assert len(result.accepted) == len(bars) - 1
    assert len(result.accepted) + len(result.rejected) + result.duplicates == len(bars) + 2


def test_it_rejects_nan_and_infinite_prices_as_missing() -> None:
    bars = _aapl_week()  # alteration: a NaN open on 07-01, an infinite close on 07-02
    bars.loc[bars["date"] == "2025-07-01", "open"] = float("nan")
    bars.loc[bars["date"] == "2025-07-02", ["high", "close"]] = float("inf")
    result = validate(bars)
    assert reasons(result) == {
        ("AAPL", "2025-07-01"): "missing_price",
        ("AAPL", "2025-07-02"): "missing_price",
    }
    assert np.isfinite(result.accepted[["open", "high", "low", "close"]].to_numpy()).all()


def test_it_rejects_negative_prices() -> None:
    bars = _aapl_week()  # alteration: the real 2025-07-03 low negated (a sign error)
    bars.loc[bars["date"] == "2025-07-03", "low"] *= -1
    result = validate(bars)
    assert reasons(result) == {("AAPL", "2025-07-03"): "non_positive_price"}


def test_it_rejects_absurd_and_infinite_volumes_with_a_reason() -> None:
    bars = _aapl_week()  # alteration: 07-01 volume x1e6 (~5e13 shares), 07-02 volume infinite
    bars.loc[bars["date"] == "2025-07-01", "volume"] *= 1e6
    bars.loc[bars["date"] == "2025-07-02", "volume"] = float("inf")
    result = validate(bars)
    assert reasons(result) == {
        ("AAPL", "2025-07-01"): "absurd_volume",
        ("AAPL", "2025-07-02"): "absurd_volume",
    }
    dates = result.rejected["date"].astype(str).str[:10]
    details = dict(zip(dates, result.rejected["detail"], strict=True))
    assert "implausible" in details["2025-07-01"]
    assert "implausible" in details["2025-07-02"]


def test_it_keeps_missing_volume_apart_from_absurd_volume() -> None:
    bars = _aapl_week()  # alteration: 07-01 volume missing, 07-02 exactly at the threshold
    bars.loc[bars["date"] == "2025-07-01", "volume"] = np.nan
    bars.loc[bars["date"] == "2025-07-02", "volume"] = MAX_DAILY_VOLUME
    assert reasons(validate(bars)) == {("AAPL", "2025-07-01"): "negative_volume"}


def test_it_rejects_unknown_symbols_before_any_other_rule() -> None:
    sp = real_bars(SP500, ["AAPL", "FITB"], "2025-06-30", "2025-07-09")
    sp.loc[(sp["symbol"] == "FITB") & (sp["date"] == "2025-07-01"), "close"] = 0.0
    result = validate(sp, known={"AAPL"})  # FITB treated as missing from the reference table
    found = reasons(result)
    assert set(found.values()) == {"unknown_symbol"}
    assert {s for s, _ in found} == {"FITB"} and len(found) == (sp["symbol"] == "FITB").sum()
    assert (result.accepted["symbol"] == "AAPL").sum() == (sp["symbol"] == "AAPL").sum()
    assert validate(sp).counts == {"non_positive_price": 1}  # no reference table: no such rule


def test_it_validates_out_of_order_bars_as_if_sorted() -> None:
    bars = _aapl_week()  # alteration: the rows delivered newest first, one bar a bad tick
    bars.loc[bars["date"] == "2025-07-03", "close"] *= 10
    bars.loc[bars["date"] == "2025-07-03", "high"] *= 10
    shuffled = validate(bars.iloc[::-1].reset_index(drop=True))
    ordered = validate(bars)
    assert reasons(shuffled) == reasons(ordered) == {("AAPL", "2025-07-03"): "jump_reverted"}
    assert list(shuffled.accepted["date"]) == sorted(shuffled.accepted["date"])


def test_it_keeps_other_symbols_when_one_symbols_bars_are_all_bad() -> None:
    sp = real_bars(SP500, ["AAPL", "FITB"], "2025-06-30", "2025-07-09")
    bad = sp["symbol"] == "FITB"  # alteration: every FITB bar broken a different way
    sp.loc[bad, "close"] = [np.nan, 0.0, -1.0, float("inf"), np.nan, 0.0, -2.0][: bad.sum()]
    result = validate(sp)
    assert set(result.rejected["symbol"]) == {"FITB"}
    assert (result.accepted["symbol"] == "AAPL").sum() == (sp["symbol"] == "AAPL").sum()


def test_it_quarantines_the_cut_row_of_a_truncated_file(tmp_path) -> None:
    from ingestion.frames import read_price_csv

    bars = _aapl_week()
    path = tmp_path / "prices.csv"
    bars.assign(date=bars["date"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    lines = path.read_text().rstrip("\n").split("\n")
    cut = ",".join(lines[-1].split(",")[:5])  # the download stopped after the last row's high
    path.write_text("\n".join([*lines[:-1], cut]))
    result = validate(read_price_csv(path))
    last = str(bars["date"].max().date())
    assert reasons(result) == {("AAPL", last): "missing_price"}
    assert len(result.accepted) == len(bars) - 1
