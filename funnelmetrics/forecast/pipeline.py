"""Bookings forecast: the open pipeline by Monte Carlo over each deal's win and close period,
plus bookings from pipeline not yet created, from the history of new pipeline.

- Open pipeline: each open deal is won in each period with the probability `winrates.WinRates`
  learns from the deals before the instant (won, lost and still open, by stage and days open),
  or not within the horizon; `simulations` runs (fixed seed) draw that outcome per deal and
  give P10/P50/P90 of the bookings of each period. `expected` is exact: Σ amount × P(win) × P(close in the period). A deal with an
  unknown amount books the average amount of the open deals whose amount is known.
- New pipeline: for each of the last `lookback` period starts o before the instant, the won
  amount in the h-th period from o of deals created at or after o (h = 1..horizon), scaled by
  how much pipeline is created now against then (deals created in the last whole period before
  the instant / in o's first period: a growing team books more from new deals); its empirical
  distribution per h (resampled in the same runs) gives the new-pipeline figures.
- Periods are calendar periods of the workspace zone; the first is the one holding the instant
  and counts only what closes from the instant on.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np

from funnelmetrics.compile.time import Grain, floor, local_to_utc, shift
from funnelmetrics.errors import QueryError
from funnelmetrics.forecast.history import (
    created_counts,
    durations,
    new_deal_bookings,
    open_deals,
    size_cuts,
)
from funnelmetrics.forecast.winrates import WinRates

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

GRAINS = (Grain.MONTH, Grain.QUARTER)


def quantiles(samples: np.ndarray) -> dict[str, float]:
    """P10, P50, P90 of samples (linear interpolation, numpy's default)."""
    p10, p50, p90 = np.percentile(samples, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}


CHUNK = 256  # deals drawn at once: 256 × simulations × periods booleans


class PipelineForecast:
    """Open-pipeline Monte Carlo and new-pipeline resampling; see the module doc.

    >>> PipelineForecast(grain="quarter", horizon=2).fit(ws, as_of=dt.datetime(2026, 7, 1))
    ... # doctest: +SKIP
    """

    def __init__(self, *, grain: str = "month", horizon: int = 3, by: str | None = None,
                 simulations: int = 5000, seed: int = 0, strength: float = 30.0,
                 lookback: int = 4) -> None:
        g = Grain(grain)
        if g not in GRAINS:
            raise QueryError(f"--grain {grain!r}: use month or quarter for a bookings forecast")
        if not 1 <= horizon <= 24:
            raise QueryError(f"--horizon {horizon}: use 1 to 24 periods")
        self.grain, self.horizon, self.by = g, horizon, by
        self.simulations, self.seed, self.strength, self.lookback = (simulations, seed,
                                                                     strength, lookback)

    # ---- periods --------------------------------------------------------------------------
    def _period_starts(self, ws: Workspace, as_of: dt.datetime) -> list[dt.date]:
        tz = ws.config.timezone
        local_now = _utc_to_local_date(as_of, tz)
        first = floor(local_now, self.grain)
        return [shift(first, self.grain, k) for k in range(self.horizon + 1)]

    def fit(self, ws: Workspace, *, as_of: dt.datetime) -> PipelineForecast:
        """Learn from the workspace as it stood at `as_of` (naive UTC) and simulate."""
        tz = ws.config.timezone
        starts = self._period_starts(ws, as_of)
        self.as_of_ = as_of
        self.periods_ = starts[:-1]
        self.starts_utc_ = [local_to_utc(dt.datetime.combine(d, dt.time()), tz) for d in starts]
        bounds = [max(as_of, b) for b in self.starts_utc_]
        cuts = size_cuts(ws, as_of) if self.by is None else None
        self.rates_ = WinRates(strength=self.strength).fit(durations(ws, as_of, self.by, cuts))
        self.deals_ = open_deals(ws, as_of, self.by, cuts)
        rng = np.random.default_rng(self.seed)
        self.open_sims_, self.open_expected_, self.open_counts_ = self._simulate_open(bounds, rng)
        self.new_history_ = self._new_history(ws, as_of)
        self.new_sims_ = self._simulate_new(rng)
        return self

    # ---- open pipeline --------------------------------------------------------------------
    def _simulate_open(self, bounds: list[dt.datetime], rng: np.random.Generator
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n_periods, sims = len(bounds) - 1, self.simulations
        totals = np.zeros((sims, n_periods))
        counts = np.zeros((sims, n_periods))
        expected = np.zeros(n_periods)
        edges = np.array([(b - self.as_of_).total_seconds() / 86_400 for b in bounds])
        known = [d["amount"] for d in self.deals_ if d["amount"] is not None]
        fallback = float(np.mean(known)) if known else 0.0
        amounts, chances = [], []
        for deal in self.deals_:
            per_period = self._deal_periods(deal, edges)
            if per_period is None:
                continue
            amount = deal["amount"] if deal["amount"] is not None else fallback
            expected += amount * per_period
            rest = max(0.0, 1.0 - per_period.sum())
            amounts.append(amount)
            chances.append(np.append(per_period, rest) / (per_period.sum() + rest))
        # each deal's period of winning (n_periods: not within them) in every simulation, drawn
        # by inverse CDF from `sims` uniforms a deal, deal after deal (what rng.choice(…, p)
        # draws, without a call per deal)
        for lo in range(0, len(chances), CHUNK):
            cdf = np.cumsum(np.array(chances[lo:lo + CHUNK]), axis=1)
            cdf /= cdf[:, -1:]
            draws = rng.random((len(cdf), sims))
            outcomes = np.zeros(draws.shape, dtype=np.int64)  # how many cdf steps ≤ the draw
            for step in cdf.T:
                outcomes += draws >= step[:, None]
            for amount, outcome in zip(amounts[lo:lo + CHUNK], outcomes, strict=True):
                # one outcome per simulation: no cell twice, so an in-place add is np.add.at
                won = outcome < n_periods
                cells = np.nonzero(won)[0] * n_periods + outcome[won]
                totals.ravel()[cells] += amount
                counts.ravel()[cells] += 1
        return totals, expected, counts

    def _deal_periods(self, deal: dict[str, Any], edges: np.ndarray) -> np.ndarray | None:
        """P(the deal is won in each period); sets its `win_probability` (ever)."""
        days_open = max((self.as_of_ - deal["start"]).total_seconds() / 86_400, 0.0)
        created = max((self.as_of_ - deal["created_at"]).total_seconds() / 86_400, 0.0)
        by_day = self.rates_.win_by_day(segment=deal["segment"], stage=deal["stage"],
                                        days_open=days_open, created_days=created)
        deal["win_probability"] = (float(by_day.sum()) if self.rates_.overall_ is not None
                                   else None)
        if deal["win_probability"] is None:
            return None
        # day j from now is the stage's day floor(days_open) + j: its middle, from the instant
        middle = np.maximum(np.floor(days_open) + np.arange(len(by_day)) + 0.5 - days_open, 0.0)
        period = np.searchsorted(edges, middle, side="right") - 1
        # `period` never decreases: each period's days are one slice of by_day
        cut = np.searchsorted(period, np.arange(len(edges)), side="left")
        return np.array([by_day[cut[k]:cut[k + 1]].sum() for k in range(len(edges) - 1)])

    # ---- new pipeline ---------------------------------------------------------------------
    def _new_history(self, ws: Workspace, as_of: dt.datetime) -> list[list[float]]:
        """Per past origin (the last `lookback` period starts whose `horizon` periods all end
        before the instant), bookings of new deals in each of the periods after it."""
        tz = ws.config.timezone
        first = self.periods_[0]

        def utc(d: dt.date) -> dt.datetime:
            return local_to_utc(dt.datetime.combine(d, dt.time()), tz)

        origins, ends = [], []
        for back in range(self.horizon, self.horizon + self.lookback):
            o = shift(first, self.grain, -back)
            origins.append(utc(o))
            ends.append([utc(shift(o, self.grain, h)) for h in range(1, self.horizon + 1)])
        history = new_deal_bookings(ws, as_of, origins, ends)
        # pipeline creation then and now: the last whole period before the instant
        spans = [(o, e[0]) for o, e in zip(origins, ends, strict=True)]
        spans.append((utc(shift(first, self.grain, -1)), utc(first)))
        created = created_counts(ws, as_of, spans)
        now = created[-1]
        self.new_scale_ = [now / c if c and now else 1.0 for c in created[:-1]]
        return [[v * f for v in row] for row, f in zip(history, self.new_scale_, strict=True)]

    def _simulate_new(self, rng: np.random.Generator) -> np.ndarray:
        history = np.array(self.new_history_, dtype=float).reshape(-1, self.horizon)
        sims = np.zeros((self.simulations, self.horizon))
        if len(history):
            rows = rng.integers(0, len(history), size=(self.simulations, self.horizon))
            sims = history[rows, np.arange(self.horizon)]
            sims[:, 0] *= self._remaining_share()
        return sims

    def _remaining_share(self) -> float:
        """The share of the first period still to come at the instant (new deals booked in a
        partly elapsed period scale with its remaining length)."""
        start, end = self.starts_utc_[0], self.starts_utc_[1]
        total = (end - start).total_seconds()
        return min(1.0, max(0.0, (end - self.as_of_).total_seconds() / total)) if total else 0.0

    # ---- answer ---------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """One row per period: open pipeline, new pipeline and their total."""
        out = []
        history = np.array(self.new_history_, dtype=float).reshape(-1, self.horizon)
        new_expected = history.mean(axis=0) if len(history) else None
        if new_expected is not None:
            new_expected[0] *= self._remaining_share()
        for k, start in enumerate(self.periods_):
            total = self.open_sims_[:, k] + self.new_sims_[:, k]
            open_part = {"expected": float(self.open_expected_[k]),
                         **quantiles(self.open_sims_[:, k]),
                         "deals": int(np.median(self.open_counts_[:, k]))}
            new_part = {"expected": float(new_expected[k]) if new_expected is not None else 0.0,
                        **quantiles(self.new_sims_[:, k]), "origins": len(self.new_history_)}
            out.append({"period_start": start.isoformat(), "open_pipeline": open_part,
                        "new_pipeline": new_part,
                        "total": {"expected": open_part["expected"] + new_part["expected"],
                                  **quantiles(total)}})
        return out

    def deal_rows(self) -> list[dict[str, Any]]:
        """Each open deal: its amount, stage, our win probability and the CRM's beside it."""
        return [{"opportunity_id": d["opportunity_id"], "amount": d["amount"],
                 "segment": d["segment"] or None, "stage": d["stage"],
                 "win_probability": d.get("win_probability"),
                 "crm_probability": d["crm_probability"]} for d in self.deals_]


def _utc_to_local_date(moment: dt.datetime, tz: str) -> dt.date:
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz)).date()


def bookings_forecast(ws: Workspace, *, as_of: dt.datetime | None = None, grain: str = "month",
                      horizon: int = 3, by: str | None = None, simulations: int = 5000,
                      seed: int = 0, deals: bool = False) -> dict[str, Any]:
    """The `forecast bookings` answer: {"forecast", "as_of", "grain", "rows"} (+ "deals")."""
    moment = as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    f = PipelineForecast(grain=grain, horizon=horizon, by=by, simulations=simulations,
                         seed=seed).fit(ws, as_of=moment)
    out: dict[str, Any] = {"forecast": "bookings",
                           "as_of": _utc_to_local_date(moment, ws.config.timezone).isoformat(),
                           "grain": f.grain.value, "rows": f.rows()}
    if deals:
        out["deals"] = f.deal_rows()
    return out
