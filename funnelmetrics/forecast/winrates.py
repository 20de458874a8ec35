"""When an open deal will be won, learned from the deals before it (won, lost and still open).

Each deal's time at a stage runs from when it first reached that stage (stage `*`: from its
creation) to its close — won or lost, competing outcomes — or, still open, to the instant
(right-censored). A deal open at stage s for a days is compared with the deals that stayed at
s at least a days (not those that moved on sooner: still being at a stage is itself news).
Among them, the discrete-time (daily) hazards of winning and losing among those still open at
day d,

    h_won(d) = won on day d / open at d,   h_lost(d) = lost on day d / open at d,
    S(d) = Π_{u<d} (1 - h_won(u) - h_lost(u))                         (Kaplan-Meier),

give the cumulative incidence of a win (Kalbfleisch & Prentice, "The Statistical Analysis of
Failure Time Data", 2nd ed., §8.2). A deal open for a days wins on day d > a with probability
S(d) h_won(d) / S(a): deals that linger open (the ones a CRM never closes) lower it, as they
should, and the days give the close period. Its win probability is the sum over all days.

Groups form a hierarchy — all deals → segment → segment × the deal's current stage — and each
level's daily hazards are shrunk toward its parent's by the deals it has still open that day:
h = (events + k h_parent) / (open + k), with k = `strength` (k comparable deals move it halfway
from the parent; the bookings forecast uses 30, chosen on the demo's back-test among 3, 10 and
40), so that where a small group runs out of deals its
parent's hazards carry on (a beta-binomial estimate per day, as in Gelman et al., "Bayesian
Data Analysis", ch. 5). Without deal_stage_events
every deal is at stage `*` and the last level is its age in pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from funnelmetrics.forecast.history import ALL_STAGES


@dataclass
class Incidence:
    """Daily win/loss hazards of one group of deals (see the module doc)."""

    won: np.ndarray
    lost: np.ndarray
    at_risk: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray) -> Incidence:
        """From rows (outcome: 1 won, -1 lost, 0 open; days; deals)."""
        top = int(rows[:, 1].max()) + 2 if len(rows) else 1
        days = np.maximum(rows[:, 1].astype(int), 0)
        ended = np.bincount(days, weights=rows[:, 2], minlength=top).astype(float)
        won = np.bincount(days, weights=rows[:, 2] * (rows[:, 0] == 1), minlength=top)
        lost = np.bincount(days, weights=rows[:, 2] * (rows[:, 0] == -1), minlength=top)
        at_risk = np.cumsum(ended[::-1])[::-1]  # still in the group at day d: ended on d or later
        return cls(won=won, lost=lost, at_risk=at_risk)

    def open_at(self, age: int) -> float:
        """How many deals were still open at `age` days (the level's weight)."""
        return float(self.at_risk[age]) if age < len(self.at_risk) else 0.0

    def win_by_day(self, age: int) -> np.ndarray:
        """P(won on day age + j | open at age), j = 0, 1, …: S(d) h_won(d) / S(age)."""
        if age >= len(self.at_risk) or self.at_risk[age] == 0:
            return np.zeros(0)
        risk = self.at_risk[age:]
        safe = np.where(risk > 0, risk, 1.0)
        h_won = np.where(risk > 0, self.won[age:] / safe, 0.0)
        h_end = np.where(risk > 0, (self.won[age:] + self.lost[age:]) / safe, 0.0)
        survive = np.concatenate([[1.0], np.cumprod(1.0 - h_end)[:-1]])
        return survive * h_won


@dataclass
class WinRates:
    """Hierarchical win-by-day probabilities, fitted on `history.durations` rows."""

    strength: float = 10.0
    rows_: list[dict[str, Any]] = field(default_factory=list)

    def fit(self, rows: Sequence[dict[str, Any]]) -> WinRates:
        self.rows_ = list(rows)
        code = {"won": 1, "lost": -1}
        groups: dict[tuple[str | None, str], list[tuple[int, int, int, int]]] = {}
        for r in self.rows_:
            item = (code.get(r["outcome"], 0), int(r["days"]), int(r["deals"]), int(r["spell"]))
            groups.setdefault((r["segment"], r["stage"]), []).append(item)
            if r["stage"] == ALL_STAGES:
                groups.setdefault((None, ALL_STAGES), []).append(item)
        self._rows = {k: np.array(v, dtype=float) for k, v in groups.items()}
        self._cache: dict[tuple[str | None, str, int], Incidence] = {}
        self._by_day: dict[tuple[str, str, int, int], np.ndarray] = {}
        whole = self._rows.get((None, ALL_STAGES))
        closed = 0.0 if whole is None else float(whole[whole[:, 0] != 0, 2].sum())
        self.closed_deals_ = closed
        won = 0.0 if whole is None else float(whole[whole[:, 0] == 1, 2].sum())
        self.overall_ = won / closed if closed else None
        return self

    def group(self, segment: str | None, stage: str, age: int) -> Incidence | None:
        """The incidence of the deals of (segment, stage) that stayed at it `age` days or more."""
        key = (segment, stage, age)
        if key not in self._cache:
            rows = self._rows.get((segment, stage))
            if rows is None:
                return None
            self._cache[key] = Incidence.of(rows[rows[:, 3] >= age, :3])
        return self._cache[key]

    def win_by_day(self, *, segment: str, stage: str, days_open: float,
                   created_days: float) -> np.ndarray:
        """P(won on day j from now), j = 0, 1, … for a deal open `days_open` days at its
        stage and `created_days` since its creation, from hazards shrunk down the hierarchy.

        It depends on the whole days only: worked out once per (segment, stage, days, days)
        — a pipeline's thousands of open deals share a few hundred — and read-only."""
        key = (segment, stage, int(days_open), int(created_days))
        found = self._by_day.get(key)
        if found is None:
            found = self._by_day[key] = self._win_by_day(segment, stage, days_open,
                                                         created_days)
            found.flags.writeable = False
        return found

    def _win_by_day(self, segment: str, stage: str, days_open: float,
                    created_days: float) -> np.ndarray:
        levels = [(None, ALL_STAGES, created_days), (segment, ALL_STAGES, created_days)]
        if stage != ALL_STAGES:
            levels.append((segment, stage, days_open))
        won: np.ndarray | None = None
        lost = np.zeros(0)
        for seg, st, age in levels:
            group = self.group(seg, st, int(age))
            if group is None:
                continue
            a = int(age)
            g_won, g_lost, g_risk = (v[a:] if a < len(v) else np.zeros(0)
                                     for v in (group.won, group.lost, group.at_risk))
            size = max(len(g_risk), 0 if won is None else len(won))
            g_won, g_lost, g_risk = (_padded(v, size) for v in (g_won, g_lost, g_risk))
            if won is None:  # the top level: its own hazards
                safe = np.where(g_risk > 0, g_risk, 1.0)
                won, lost = g_won / safe, g_lost / safe
                continue
            p_won, p_lost = _padded(won, size), _padded(lost, size)
            k = self.strength
            won = (g_won + k * p_won) / (g_risk + k)
            lost = (g_lost + k * p_lost) / (g_risk + k)
        if won is None:
            return np.zeros(0)
        survive = np.concatenate([[1.0], np.cumprod(1.0 - won - lost)[:-1]])
        return survive * won

    def probability(self, **deal: Any) -> float | None:
        """P(the deal is ever won), by the same hierarchy (None without any history)."""
        if self.overall_ is None:
            return None
        return float(self.win_by_day(**deal).sum())


def _padded(values: np.ndarray, size: int) -> np.ndarray:
    """`values` with zeros after it up to `size` (np.pad's result, without its cost: this runs
    tens of thousands of times for one forecast); `values` itself when long enough (nothing
    here changes an array in place)."""
    if len(values) >= size:
        return values
    out = np.zeros(size, dtype=values.dtype)
    out[:len(values)] = values
    return out
