"""Win probability and close timing of an open deal, learned from closed history.

A deal open at stage s, d whole days after it reached s, resembles the closed deals that reached
s and were still open d days later (their close came at least d days after s). Its win
probability is their won share, shrunk toward a coarser level when they are few — a hierarchy
of beta-binomial estimates (empirical Bayes with a fixed prior strength, as in Gelman et al.,
"Bayesian Data Analysis", ch. 5): each level's rate is (wins + k · parent rate) / (deals + k),

    overall → segment → segment × stage → segment × stage × days-open bucket

(a level whose deals are its parent's — the first bucket, stage `*` — is skipped), with k = `strength` pseudo-deals (10 by default: a cell of 10 closed deals moves halfway from
its parent toward its own rate). Without deal_stage_events every deal is at stage `*` (its
clock starts at creation, so the last level is the deal's age in pipeline).

When it closes: the remaining days of the won deals of that stage still open at d days
(close - stage start - d), sampled; when fewer than `min_timing` such deals exist, the
`min_timing` longest-open ones are used, their remainders floored at one day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from funnelmetrics.forecast.history import ALL_STAGES

AGE_BUCKETS = (0, 15, 30, 60, 90, 180, 365)  # days open at the stage: bucket lower bounds


def bucket_floor(days: float) -> int:
    """The lower bound of the days-open bucket holding `days`."""
    return max(b for b in AGE_BUCKETS if b <= max(days, 0))


@dataclass
class WinRates:
    """Hierarchical win rates and close-time samples, fitted on `closed_counts` rows."""

    strength: float = 10.0
    min_timing: int = 20
    counts_: list[dict[str, Any]] = field(default_factory=list)

    def fit(self, counts: Sequence[dict[str, Any]]) -> WinRates:
        self.counts_ = list(counts)
        whole = [r for r in self.counts_ if r["stage"] == ALL_STAGES]
        wins = sum(r["deals"] for r in whole if r["won"])
        total = sum(r["deals"] for r in whole)
        self.overall_ = wins / total if total else None
        self.closed_deals_ = total
        self._cells: dict[tuple[str, str], np.ndarray] = {}
        for r in self.counts_:
            key = (r["segment"], r["stage"])
            self._cells.setdefault(key, [])  # type: ignore[arg-type]
            self._cells[key].append((r["won"], r["days"], r["deals"]))  # type: ignore[attr-defined]
        self._cells = {k: np.array(v, dtype=float) for k, v in self._cells.items()}
        return self

    def _shrink(self, wins: float, deals: float, parent: float) -> float:
        return (wins + self.strength * parent) / (deals + self.strength)

    def _counts(self, segment: str | None, stage: str, min_days: float = 0) -> tuple[float, float]:
        rows = [v for (seg, st), v in self._cells.items()
                if st == stage and (segment is None or seg == segment)]
        if not rows:
            return 0.0, 0.0
        a = np.concatenate(rows)
        a = a[a[:, 1] >= min_days]
        return float((a[:, 0] * a[:, 2]).sum()), float(a[:, 2].sum())

    def probability(self, *, segment: str, stage: str, days_open: float) -> float | None:
        """P(win) of a deal open at `stage` for `days_open` days, by the hierarchy above."""
        if self.overall_ is None:
            return None
        levels = [(ALL_STAGES, 0.0), (stage, 0.0), (stage, bucket_floor(days_open))]
        if levels[2][1] == 0:  # the first bucket's deals are the stage's: counted once
            del levels[2]
        if stage == ALL_STAGES:
            del levels[1]
        rate = self.overall_
        for st, lower in levels:
            wins, deals = self._counts(segment, st, lower)
            rate = self._shrink(wins, deals, rate)
        return rate

    def remaining_days(self, *, stage: str, days_open: float) -> np.ndarray:
        """Remaining days to close of the won deals of `stage` still open at `days_open`, with
        their weights (counts): shape (n, 2)."""
        for st in (stage, ALL_STAGES):
            rows = [v for (_, s), v in self._cells.items() if s == st]
            if not rows:
                continue
            a = np.concatenate(rows)
            won = a[a[:, 0] == 1]
            if won[:, 2].sum() == 0:
                continue
            later = won[won[:, 1] >= days_open]
            if later[:, 2].sum() >= self.min_timing:
                return np.column_stack([later[:, 1] - days_open, later[:, 2]])
            longest = won[np.argsort(-won[:, 1])]
            keep = np.cumsum(longest[:, 2]) <= self.min_timing
            keep[0] = True
            tail = longest[keep]
            return np.column_stack([np.maximum(tail[:, 1] - days_open, 1.0), tail[:, 2]])
        return np.zeros((0, 2))
