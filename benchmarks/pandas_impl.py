"""The benchmark's funnel metric suite (benchmarks/suite.py) in plain pandas.

What a competent analyst would write: read the CSV exports with `pandas.read_csv` (only the
columns needed, timestamps parsed), compute every lead's reach time per stage once, then each
metric with groupby/resample-style code. Same definitions as SPEC §3 (see benchmarks/hand_sql.py
for the list); amounts are converted to USD with `merge_asof` on fx_rates.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pandas as pd
from suite import REPORTING, STAGES, WINDOW_DAYS, Item, month_starts, suite

DAY = pd.Timedelta(days=1)


def _utc(s: pd.Series) -> pd.Series:
    """ISO 8601 text ('…Z' or a date alone) → naive UTC datetime64."""
    return pd.to_datetime(s, utc=True, format="ISO8601").dt.tz_localize(None)


def read(data_dir: Path) -> dict[str, pd.DataFrame]:
    """The four tables the suite needs, straight from the CSV files."""
    d = Path(data_dir)
    leads = pd.read_csv(d / "leads.csv", usecols=["lead_id", "created_at"])
    events = pd.read_csv(d / "stage_events.csv", usecols=["lead_id", "stage", "occurred_at"])
    opps = pd.read_csv(d / "opportunities.csv", usecols=[
        "opportunity_id", "created_at", "status", "amount", "closed_at", "currency"])
    fx = pd.read_csv(d / "fx_rates.csv")
    leads["created_at"] = _utc(leads.created_at)
    events["occurred_at"] = _utc(events.occurred_at)
    for col in ("created_at", "closed_at"):
        opps[col] = _utc(opps[col])
    fx["date"] = _utc(fx.date)
    return {"leads": leads, "stage_events": events, "opportunities": opps, "fx_rates": fx}


class Suite:
    """Metric computations over in-memory frames for one [start, end] range."""

    def __init__(self, tables: dict[str, pd.DataFrame], start: dt.date, end: dt.date) -> None:
        self.t = tables
        self.lo = pd.Timestamp(start)
        self.hi = pd.Timestamp(end) + DAY
        self.months = pd.DatetimeIndex([pd.Timestamp(m) for m in month_starts(start, end)])
        self._reach: pd.DataFrame | None = None
        self._opps: pd.DataFrame | None = None

    # ---- shared frames ----------------------------------------------------------------------
    @property
    def reach(self) -> pd.DataFrame:
        """One row per lead, one column per stage: when the lead reached it (NaT if never)."""
        if self._reach is None:
            leads, ev = self.t["leads"], self.t["stage_events"]
            reach = leads.set_index("lead_id")[["created_at"]].rename(
                columns={"created_at": STAGES[0]})
            for k, stage in enumerate(STAGES[1:], start=1):
                later = ev[ev.stage.isin(STAGES[k:])]
                reach[stage] = later.groupby("lead_id").occurred_at.min()
            self._reach = reach
        return self._reach

    @property
    def opps(self) -> pd.DataFrame:
        """Opportunities with a USD amount; closed only when won/lost with a closed_at."""
        if self._opps is None:
            o = self.t["opportunities"].copy()
            closed = o.status.isin(["won", "lost"]) & o.closed_at.notna()
            o.loc[~closed, "status"] = "open"
            o.loc[~closed, "closed_at"] = pd.NaT
            o["fx_on"] = o.closed_at.fillna(o.created_at)
            fx = self.t["fx_rates"].sort_values("date")
            o = pd.merge_asof(o.sort_values("fx_on"), fx, left_on="fx_on", right_on="date",
                              by="currency", direction="backward")
            home = o.currency.isna() | (o.currency == REPORTING)
            o["amount"] = o.amount * np.where(home, 1.0, o.rate_to_reporting)
            self._opps = o
        return self._opps

    # ---- helpers ----------------------------------------------------------------------------
    def _monthly(self, values: pd.Series, when: pd.Series, how: str) -> pd.Series:
        """Aggregate `values` by the month of `when` (rows in range only), every month present."""
        keep = when.notna() & (when >= self.lo) & (when < self.hi)
        month = when[keep].dt.to_period("M").dt.to_timestamp()
        out = values[keep].groupby(month).agg(how)
        out = out.reindex(self.months)
        return out.fillna(0.0) if how in ("size", "sum", "count") else out

    def _frame(self, value: pd.Series, num: pd.Series | None = None,
               den: pd.Series | None = None) -> pd.DataFrame:
        df = pd.DataFrame({"period_start": self.months.date,
                           "value": value.to_numpy(dtype="float64")})
        if num is not None and den is not None:
            df["numerator"] = num.to_numpy(dtype="float64")
            df["denominator"] = den.to_numpy(dtype="float64")
        return df

    def _ratio(self, num: pd.Series, den: pd.Series) -> pd.DataFrame:
        return self._frame((num / den).where(den != 0), num, den)

    # ---- metrics ----------------------------------------------------------------------------
    def leads_created(self) -> pd.DataFrame:
        created = self.t["leads"].created_at
        return self._frame(self._monthly(created, created, "size"))

    def stage_reached(self, stage: str) -> pd.DataFrame:
        at = self.reach[stage]
        return self._frame(self._monthly(at, at, "size"))

    def stage_conversion_rate(self, from_stage: str, to_stage: str) -> pd.DataFrame:
        a, b = self.reach[from_stage], self.reach[to_stage]
        converted = (b.notna() & (b <= a + pd.Timedelta(days=WINDOW_DAYS))).astype("int64")
        entered = self._monthly(converted, a, "size")
        return self._ratio(self._monthly(converted, a, "sum"), entered)

    def lead_conversion_rate(self) -> pd.DataFrame:
        return self.stage_conversion_rate(STAGES[0], STAGES[-1])

    def time_in_stage(self, stage: str, stat: str = "mean") -> pd.DataFrame:
        nxt = STAGES[STAGES.index(stage) + 1]
        a, b = self.reach[stage], self.reach[nxt]
        moved = b.notna()
        days = (b[moved] - a[moved]) / DAY
        return self._frame(self._monthly(days, a[moved], stat))

    def win_rate(self) -> pd.DataFrame:
        o = self.opps
        closed = o[o.status.isin(["won", "lost"])]
        won = (closed.status == "won").astype("int64")
        return self._ratio(self._monthly(won, closed.closed_at, "sum"),
                           self._monthly(won, closed.closed_at, "size"))

    def _won(self) -> pd.DataFrame:
        return self.opps[self.opps.status == "won"]

    def average_deal_size(self) -> pd.DataFrame:
        won = self._won()
        return self._ratio(self._monthly(won.amount, won.closed_at, "sum"),
                           self._monthly(won.amount, won.closed_at, "size"))

    def sales_cycle_days(self) -> pd.DataFrame:
        won = self._won()
        days = (won.closed_at - won.created_at) / DAY
        return self._frame(self._monthly(days, won.closed_at, "mean"))

    def pipeline_value(self) -> pd.DataFrame:
        o = self.opps
        values = []
        for month in self.months:
            nxt = month + pd.offsets.MonthBegin(1)
            open_then = (o.created_at < nxt) & (o.closed_at.isna() | (o.closed_at >= nxt))
            values.append(o.amount[open_then].sum())
        return self._frame(pd.Series(values, dtype="float64"))

    def compute(self, item: Item) -> pd.DataFrame:
        return getattr(self, item.metric)(**item.kwargs)


def run(tables: dict[str, pd.DataFrame], start: dt.date, end: dt.date,
        items: list[Item] | None = None) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Every suite item; returns results and seconds per item (shared frames are built by the
    first item that needs them, and counted there)."""
    s = Suite(tables, start, end)
    results, seconds = {}, {}
    for item in items or suite():
        t0 = time.perf_counter()
        results[item.key] = s.compute(item)
        seconds[item.key] = time.perf_counter() - t0
    return results, seconds
