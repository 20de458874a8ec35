"""Plans and pulses: rep quotas, KPI targets and the quarterly eNPS survey.

Quotas and MRR targets are sized from what the generated business actually books (a smoothed
trend, stretched), so attainment lands around 60–120 % as it does in healthy sales teams.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from funnelmetrics.demo import assumptions as A
from funnelmetrics.demo.people import TEAMS, rep_ids
from funnelmetrics.demo.sink import Columns, labels
from funnelmetrics.demo.timeline import DAY, Window, expected_leads, month_of, month_start
from funnelmetrics.demo.world import World

TARGET_STRETCH = 1.08  # targets sit a little above the plan
FUTURE_MONTHS = 2  # targets are set ahead of time
PULSE_RESPONSE_RATE = 0.85
TEAM_MOOD = np.array([8.0, 8.4, 7.6, 8.2, 8.6, 8.3, 8.8])  # by team, then leadership


@dataclass
class Tally:
    """What the chunks booked, accumulated for sizing quotas and targets."""

    months: np.ndarray
    won_usd: np.ndarray  # (rep, month of closing)
    mrr_change: np.ndarray  # USD MRR added (+) / removed (-) at each month end, before cumsum
    deals_won: int = 0
    won_total_usd: float = 0.0

    @classmethod
    def empty(cls, world: World) -> Tally:
        """A tally with nothing booked yet."""
        months = world.window.month_numbers()
        return cls(months=months, won_usd=np.zeros((world.reps.size, months.size)),
                   mrr_change=np.zeros(months.size + 1))

    def add_wins(self, rep: np.ndarray, closed: np.ndarray, usd: np.ndarray) -> None:
        """Count deals won by `rep` at instants `closed` worth `usd`."""
        month = month_of(closed) - self.months[0]
        flat = rep.astype(np.int64) * self.months.size + month
        self.won_usd += np.bincount(flat, weights=usd, minlength=self.won_usd.size).reshape(
            self.won_usd.shape)
        self.deals_won += int(usd.size)
        self.won_total_usd += float(usd.sum())

    def add_mrr(self, start: np.ndarray, end: np.ndarray, usd: np.ndarray) -> None:
        """Add subscription rows: each counts at every month end it is active at (SPEC §3)."""
        ends = month_start(self.months + 1)
        first = np.searchsorted(ends, start, side="right")
        stop = np.searchsorted(ends, end, side="right")
        self.mrr_change += np.bincount(first, weights=usd, minlength=self.mrr_change.size)
        self.mrr_change -= np.bincount(stop, weights=usd, minlength=self.mrr_change.size)

    @property
    def mrr(self) -> np.ndarray:
        """USD MRR at the end of each month."""
        return np.cumsum(self.mrr_change)[: self.months.size]


def _smooth(values: np.ndarray, width: int = 3) -> np.ndarray:
    """Centred moving average that keeps the edges unbiased."""
    if values.size < width:
        return values.astype(np.float64)
    kernel = np.ones(width)
    return np.convolve(values, kernel, "same") / np.convolve(np.ones(values.size), kernel, "same")


def _month_fraction(window: Window, months: np.ndarray) -> np.ndarray:
    """Share of each month inside the window (the last month is partial)."""
    start, end = month_start(months), month_start(months + 1)
    inside = np.minimum(end, window.cutoff) - np.maximum(start, window.start)
    return np.clip(inside / (end - start), 0.05, 1.0)


def quotas_table(rng: np.random.Generator, world: World, tally: Tally) -> Columns:
    """quotas: each quota rep's monthly share of the booking trend, with a stretch."""
    months = tally.months
    reps = np.flatnonzero(world.reps.quota)
    booked = tally.won_usd[reps]
    trend = _smooth(booked.sum(axis=0) / _month_fraction(world.window, months))
    own = booked.sum(axis=1) / max(booked.sum(), 1.0)
    team = world.reps.team[reps]
    team_mean = np.bincount(team, weights=own)[team] / np.bincount(team)[team]
    share = 0.6 * own + 0.4 * team_mean  # plans follow the team's track record, not luck alone
    stretch = rng.uniform(0.85, 1.1, reps.size)
    noise = np.exp(rng.normal(0.0, 0.08, (reps.size, months.size)))
    quota = np.maximum(np.round(trend[None, :] * share[:, None] / stretch[:, None] * noise, -2),
                       1000.0)
    rep = np.repeat(reps, months.size)
    month = np.tile(months, reps.size)
    return {"rep_id": rep_ids(rep), "period_start": month_start(month),
            "period_end": month_start(month + 1) - DAY, "amount": quota.ravel()}


def survey_table(rng: np.random.Generator, world: World) -> Columns:
    """survey_responses: a quarterly eNPS pulse answered by most of the sales team."""
    reps = world.reps
    team = np.where(reps.team < 0, len(TEAMS), reps.team)
    person = rng.normal(0.0, 0.9, reps.size)
    quarters = np.arange(month_of(np.array([world.window.start]))[0] // 3,
                         month_of(np.array([world.window.cutoff - 1]))[0] // 3 + 1)
    drift = np.cumsum(rng.normal(0.0, 0.3, quarters.size))
    parts: list[tuple[np.ndarray, ...]] = []
    for i, q in enumerate(quarters.tolist()):
        sent = month_start(np.array([q * 3 + 2]))[0] + 14 * DAY
        answered = sent + (rng.uniform(0.05, 10.0, reps.size) * DAY).astype(np.int64)
        raw = TEAM_MOOD[team] + drift[i] + person + rng.normal(0.0, 1.3, reps.size)
        keep = (rng.random(reps.size) < PULSE_RESPONSE_RATE) & (answered < world.window.cutoff)
        keep &= answered >= world.window.start
        parts.append((np.full(keep.sum(), q), np.flatnonzero(keep), answered[keep],
                      np.clip(np.round(raw[keep]), 0, 10).astype(np.int64)))
    quarter, who, at, score = (np.concatenate(p) for p in zip(*parts, strict=True))
    survey_ids = [f"pulse-{q // 4 + 1970}Q{q % 4 + 1}" for q in quarter.tolist()]
    return {"survey_id": pa.array(survey_ids, pa.string()), "respondent_id": rep_ids(who),
            "answered_at": at, "score": score,
            "team": labels((*TEAMS, "Leadership"), team[who])}


def kpi_targets_table(world: World, tally: Tally) -> Columns:
    """kpi_targets: monthly targets overall and for some dimensions, set a little ahead."""
    months = world.window.month_numbers(after=FUTURE_MONTHS)
    n = months.size
    leads = expected_leads(world.window, world.leads, months) * TARGET_STRETCH
    mrr = np.concatenate([_smooth(tally.mrr), np.zeros(FUTURE_MONTHS)])
    for k in range(n - FUTURE_MONTHS, n):
        mrr[k] = mrr[k - 1] * 1.03
    average_deal = tally.won_total_usd / max(tally.deals_won, 1)
    rows: list[tuple[str, np.ndarray, str | None, str | None]] = [
        ("leads_created", np.round(leads), None, None),
        ("win_rate", np.full(n, 0.25), None, None),
        ("mrr", np.round(mrr * TARGET_STRETCH, -1), None, None),
        ("customer_churn_rate", np.full(n, 0.02), None, None),
        ("average_deal_size", np.full(n, round(average_deal * 1.05, -1)), None, None),
    ]
    rows += [("leads_created", np.round(leads * share), "source", A.SOURCES[s])
             for s, share in enumerate(A.LEAD_SHARE_BY_SOURCE)]
    rows += [("win_rate", np.full(n, rate * 0.95), "segment", seg)
             for seg, rate in zip(A.SEGMENTS, A.P_WIN, strict=True)]
    metric, target, dimension, value = [], [], [], []
    for name, values, dim, val in rows:
        metric += [name] * n
        target.append(values)
        dimension += [dim] * n
        value += [val] * n
    month = np.tile(months, len(rows))
    return {"metric": pa.array(metric, pa.string()), "period_start": month_start(month),
            "period_end": month_start(month + 1) - DAY, "target": np.concatenate(target),
            "dimension": pa.array(dimension, pa.string()), "value": pa.array(value, pa.string())}
