"""Daily exchange rates to the reporting currency (USD) for every date any amount uses."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.sink import Columns, labels
from funnelmetrics.demo.timeline import DAY, Window

# USD per unit, around 2025–2026 levels: IDR ~16,000, MYR ~4.5, SGD ~1.34 per USD.
BASE_RATE = np.array([1.0, 1 / 16_000, 1 / 4.5, 1 / 1.34])
DAILY_VOLATILITY = np.array([0.0, 0.004, 0.003, 0.002])
MEAN_REVERSION = 0.99
DAYS_BEFORE, DAYS_AFTER = 120, 560  # touches before the window; expected closes after it


@dataclass(frozen=True)
class Fx:
    """Rates by currency (rows, codes of `assumptions.CURRENCIES`) and day (columns)."""

    first_day: int
    rates: np.ndarray

    def rate(self, currency: np.ndarray, t: np.ndarray) -> np.ndarray:
        """USD per unit of `currency` on the day of instant `t`."""
        day = np.clip(np.asarray(t) // DAY - self.first_day, 0, self.rates.shape[1] - 1)
        return self.rates[np.asarray(currency, dtype=np.int64), day]

    def table(self) -> Columns:
        """The fx_rates table (SPEC §2): one row per currency and day."""
        n_cur, n_days = self.rates.shape
        days = (self.first_day + np.arange(n_days, dtype=np.int64)) * DAY
        return {"currency": labels(A.CURRENCIES, np.repeat(np.arange(n_cur), n_days)),
                "date": np.tile(days, n_cur), "rate_to_reporting": self.rates.ravel()}


def draw_fx(rng: np.random.Generator, window: Window) -> Fx:
    """Mean-reverting random walks of the log rates around their base level."""
    n_days = DAYS_BEFORE + window.days + DAYS_AFTER
    shocks = rng.normal(0.0, 1.0, (BASE_RATE.size, n_days)) * DAILY_VOLATILITY[:, None]
    level = np.zeros_like(shocks)
    for d in range(1, n_days):  # a loop over days, not rows: ~1,300 steps
        level[:, d] = MEAN_REVERSION * level[:, d - 1] + shocks[:, d]
    rates = np.round(BASE_RATE[:, None] * np.exp(level), 10)
    return Fx(first_day=window.first_day - DAYS_BEFORE, rates=rates)
