"""Calendar of the demo world: the time window, when leads arrive, and time arithmetic.

Every instant is int64 seconds since the Unix epoch, UTC. `NEVER` (int64 max) marks "did not
happen (yet)", so `t < window.cutoff` is the single test for "happened within the data".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

DAY = 86_400
MONTH = 30.436875 * DAY  # mean Gregorian month in seconds
NEVER = np.iinfo(np.int64).max

GROWTH_PER_YEAR = 0.35  # lead volume grows ~42 % a year (exp(0.35))
# Jan..Dec: quarter-end campaign pushes (Mar, Jun, Sep), a December slump.
MONTH_FACTOR = np.array([0.93, 0.98, 1.08, 1.00, 1.01, 1.07, 0.97, 1.00, 1.09, 1.04, 1.02, 0.80])
# Mon..Sun: B2B forms are filled in on weekdays; Friday prayers shorten Friday in ID/MY.
WEEKDAY_FACTOR = np.array([1.10, 1.15, 1.12, 1.05, 0.92, 0.35, 0.25])
# Eid al-Fitr (Lebaran, Hari Raya Aidilfitri) moves ~354.37 days a year; anchored on 2024-04-10.
EID_ANCHOR_DAY = int(np.datetime64("2024-04-10", "D").astype(np.int64))
LUNAR_YEAR_DAYS = 354.367
# Local business hours 09:00–18:00 in UTC+7/UTC+8 are roughly 01:00–10:00 UTC.
BUSY_HOUR_UTC, BUSY_SPREAD_HOURS, BUSY_SHARE = 3.5, 2.6, 0.78


@dataclass(frozen=True)
class Window:
    """The data window: whole months before `end` plus the partial month `end` falls in."""

    start: int  # 00:00 of the first day of the first month
    cutoff: int  # 00:00 of `end`; nothing in the data happens at or after it

    @classmethod
    def of(cls, end: dt.date, months: int) -> Window:
        """The window of `months` whole months before the month of `end`, up to `end` 00:00."""
        end_day = np.datetime64(end, "D")
        start_month = end_day.astype("datetime64[M]") - months
        return cls(start=_secs(start_month), cutoff=_secs(end_day))

    @property
    def first_day(self) -> int:
        """Days since the epoch of the window's first day."""
        return self.start // DAY

    @property
    def days(self) -> int:
        """Number of days in the window (whole days before the cutoff)."""
        return (self.cutoff - self.start) // DAY

    def day_numbers(self) -> np.ndarray:
        """Days since the epoch of every day in the window."""
        return np.arange(self.first_day, self.first_day + self.days, dtype=np.int64)

    def month_numbers(self, after: int = 0) -> np.ndarray:
        """Months since the epoch of every month with data (plus `after` months beyond)."""
        first = month_of(np.array([self.start]))[0]
        last = month_of(np.array([self.cutoff - 1]))[0]
        return np.arange(first, last + 1 + after, dtype=np.int64)


def _secs(value: np.datetime64) -> int:
    """Seconds since the epoch of a numpy date or month."""
    return int(value.astype("datetime64[s]").astype(np.int64))


def month_of(t: np.ndarray) -> np.ndarray:
    """Months since the epoch (1970-01 = 0) of instants `t`."""
    return np.asarray(t, dtype=np.int64).view("datetime64[s]").astype("datetime64[M]").astype(
        np.int64)


def month_start(months: np.ndarray) -> np.ndarray:
    """First instant of months given as months since the epoch."""
    return np.asarray(months, dtype=np.int64).view("datetime64[M]").astype(
        "datetime64[s]").astype(np.int64)


def quarter_end(t: np.ndarray) -> np.ndarray:
    """First instant of the quarter after the one each instant falls in."""
    m = month_of(t)
    return month_start(m - m % 3 + 3)


def day_of_month(t: np.ndarray) -> np.ndarray:
    """Day of the month (1–31) of instants `t`."""
    days = np.asarray(t, dtype=np.int64) // DAY
    return days - month_start(month_of(t)) // DAY + 1


def eid_days(first: int, last: int) -> np.ndarray:
    """Approximate first days of Eid al-Fitr (days since the epoch) between two days."""
    lo = int(np.floor((first - EID_ANCHOR_DAY) / LUNAR_YEAR_DAYS))
    hi = int(np.ceil((last - EID_ANCHOR_DAY) / LUNAR_YEAR_DAYS))
    k = np.arange(lo, hi + 1)
    return EID_ANCHOR_DAY + np.round(k * LUNAR_YEAR_DAYS).astype(np.int64)


def holiday_factor(days: np.ndarray) -> np.ndarray:
    """Dips for Lebaran (mudik week and after) and the Christmas–New Year break."""
    factor = np.ones(days.size)
    for eid in eid_days(int(days[0]) - 20, int(days[-1]) + 20):
        offset = days - eid
        factor[(offset >= -4) & (offset <= 6)] *= 0.45
        factor[((offset >= -10) & (offset < -4)) | ((offset > 6) & (offset <= 10))] *= 0.8
    dom = day_of_month(days * DAY)
    month = month_of(days * DAY) % 12
    factor[((month == 11) & (dom >= 24)) | ((month == 0) & (dom == 1))] *= 0.55
    return factor


def intensity(days: np.ndarray, first_day: int) -> np.ndarray:
    """Relative lead volume of each day: growth since `first_day` × month × weekday × holidays."""
    years = (days - first_day) / 365.25
    month = month_of(days * DAY) % 12
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    return (np.exp(GROWTH_PER_YEAR * years) * MONTH_FACTOR[month] * WEEKDAY_FACTOR[weekday]
            * holiday_factor(days))


def lead_intensity(window: Window) -> np.ndarray:
    """Relative lead volume of each day of the window."""
    return intensity(window.day_numbers(), window.first_day)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after 00:00 UTC, mostly within South-East Asian business hours."""
    busy = rng.random(n) < BUSY_SHARE
    secs = np.where(busy, rng.normal(BUSY_HOUR_UTC * 3600, BUSY_SPREAD_HOURS * 3600, n),
                    rng.uniform(0, DAY, n))
    return np.mod(secs, DAY).astype(np.int64)


def arrival_times(rng: np.random.Generator, window: Window, n: int) -> np.ndarray:
    """Sorted creation instants of `n` leads following `lead_intensity`."""
    weights = lead_intensity(window)
    counts = rng.multinomial(n, weights / weights.sum())
    day = np.repeat(np.arange(weights.size, dtype=np.int64), counts)
    t = window.start + day * DAY + time_of_day(rng, n)
    t.sort()
    return t


def expected_leads(window: Window, leads: int, months: np.ndarray) -> np.ndarray:
    """Expected leads in each whole month of `months` (which may reach beyond the window)."""
    scale = leads / lead_intensity(window).sum()
    days = np.arange(month_start(months[:1])[0] // DAY, month_start(months[-1:] + 1)[0] // DAY)
    return np.bincount(month_of(days * DAY) - months[0],
                       weights=intensity(days, window.first_day) * scale, minlength=months.size)


def lognormal_secs(rng: np.random.Generator, median_days: float | np.ndarray, sigma: float,
                   n: int) -> np.ndarray:
    """Lognormal delays in whole seconds with the given median (days)."""
    return np.round(np.asarray(median_days) * DAY * np.exp(rng.normal(0.0, sigma, n))).astype(
        np.int64)


def happened(t: np.ndarray, cutoff: int) -> np.ndarray:
    """Instants that are within the data; the others become NEVER."""
    return np.where(t < cutoff, t, NEVER)
