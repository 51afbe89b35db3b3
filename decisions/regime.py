"""Market regime: a 3-state Gaussian hidden Markov model of S&P 500 daily returns.

Method (each day labelled only from data before it):
- observations: daily close-to-close S&P 500 returns in percent, from 1990 (``features.market``:
  PriceBar ``^GSPC`` when loaded, else the shared index file);
- one model per calendar year Y, fitted (hmmlearn ``GaussianHMM``, 3 states, fixed seed) on the
  returns of every day BEFORE 1 January of Y;
- the states are named by their fitted volatility: ``calm`` < ``normal`` < ``turbulent``;
- the label of day D in year Y: P(state on D | returns up to D-1) = (filtered state
  probabilities after D-1) x (transition matrix), from year Y's model; the regime is the most
  probable state and ``probability`` its probability. D itself never enters its own label.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

FIRST_DATA_DAY = dt.date(1990, 1, 2)
FIRST_LABEL_YEAR = 2000
N_STATES = 3
STATE_NAMES = ("calm", "normal", "turbulent")
METHOD = "gaussian_hmm_3_states_daily_sp500_returns_refit_yearly_predictive"


@dataclass(frozen=True)
class Labels:
    """Per labelled day: the regime, its probability and every state's probability."""

    dates: np.ndarray  # datetime64[D]
    regime: np.ndarray  # str
    probability: np.ndarray  # (N,)
    probabilities: np.ndarray  # (N, 3) in STATE_NAMES order
    model_version: np.ndarray  # str, "hmm3-fit-to-YYYY-12-31"


def market_returns(end: dt.date | None = None) -> pd.Series:
    """S&P 500 daily returns in percent, indexed by trading day (the return INTO that day)."""
    from features.market import market_close
    from ingestion.calendar import sessions

    days = sessions()
    days = days[days >= np.datetime64(FIRST_DATA_DAY)]
    if end is not None:
        days = days[days <= np.datetime64(end)]
    close = pd.Series(market_close(days), index=pd.DatetimeIndex(days)).dropna()
    return (close.pct_change() * 100.0).dropna()


def fit(returns: np.ndarray, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start probabilities, transition matrix, per-state (mean, std)) ordered calm..turbulent."""
    from hmmlearn.hmm import GaussianHMM

    model = GaussianHMM(
        n_components=N_STATES, covariance_type="diag", n_iter=200, tol=1e-4, random_state=seed
    )
    model.fit(returns.reshape(-1, 1))
    std = np.sqrt(model.covars_.reshape(N_STATES, -1)[:, 0])
    order = np.argsort(std)
    start = model.startprob_[order]
    trans = model.transmat_[np.ix_(order, order)]
    params = np.column_stack([model.means_.reshape(-1)[order], std[order]])
    return start, trans, params


def predictive(
    returns: np.ndarray, start: np.ndarray, trans: np.ndarray, params: np.ndarray
) -> np.ndarray:
    """Row i: P(state on day i | returns[:i]) — the forward filter, one step ahead."""
    mean, std = params[:, 0], params[:, 1]
    dens = np.exp(-0.5 * ((returns[:, None] - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))
    out = np.empty((returns.size, N_STATES))
    prior = start.copy()
    for i in range(returns.size):
        out[i] = prior
        post = prior * dens[i]
        total = post.sum()
        post = post / total if total > 0 else np.full(N_STATES, 1.0 / N_STATES)
        prior = post @ trans
    return out


def next_session(day: dt.date) -> np.datetime64:
    from ingestion.calendar import next_trading_day

    return np.datetime64(next_trading_day(day), "D")


def label_year(series: pd.Series, year: int) -> Labels | None:
    """Labels of the trading days of ``year`` (plus the next session after the last known
    close when it falls in ``year``), from a model fitted on the returns before ``year``."""
    days = series.index.to_numpy().astype("datetime64[D]")
    values = series.to_numpy()
    train = values[days < np.datetime64(f"{year}-01-01")]
    if train.size < 1000:
        return None
    start, trans, params = fit(train)
    # Returns up to the day before each label; the last known close also labels the next day.
    upto = values[days < np.datetime64(f"{year + 1}-01-01")]
    label_days = np.append(days[: upto.size], next_session(days[upto.size - 1].item()))
    probs = predictive(upto, start, trans, params)
    probs = np.vstack([probs, _step(probs[-1], upto[-1], trans, params)])
    keep = (label_days >= np.datetime64(f"{year}-01-01")) & (
        label_days < np.datetime64(f"{year + 1}-01-01")
    )
    if not keep.any():
        return None
    p = probs[keep]
    best = p.argmax(axis=1)
    return Labels(
        dates=label_days[keep],
        regime=np.array(STATE_NAMES)[best],
        probability=p[np.arange(best.size), best],
        probabilities=p,
        model_version=np.full(best.size, f"hmm3-fit-to-{year - 1}-12-31"),
    )


def _step(prior: np.ndarray, last: float, trans: np.ndarray, params: np.ndarray) -> np.ndarray:
    """P(state on the day after the last return | all returns), from the last day's prior."""
    mean, std = params[:, 0], params[:, 1]
    post = prior * np.exp(-0.5 * ((last - mean) / std) ** 2) / std
    return np.asarray((post / post.sum()) @ trans)[None, :]


def label_all(first_year: int = FIRST_LABEL_YEAR, end: dt.date | None = None) -> list[Labels]:
    series = market_returns(end)
    last_year = int(str(series.index[-1].year))
    found = (label_year(series, year) for year in range(first_year, last_year + 2))
    return [labels for labels in found if labels is not None]
