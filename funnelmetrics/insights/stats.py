"""The statistics insights use: the pooled two-proportion z-test, Holm's step-down adjustment and
a shift-share (volume × mix × rate) decomposition whose parts sum exactly to the change.

Pure functions over small numbers (the catalogue's ratio parts), no data frames.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ZTest:
    """A two-proportion z-test: the statistic and its two-sided p-value (None: not testable)."""

    z: float | None
    p_value: float | None


def two_proportion_ztest(x1: float, n1: float, x2: float, n2: float) -> ZTest:
    """Two-sided z-test of p1 = x1/n1 against p2 = x2/n2 with the pooled standard error
    sqrt(p(1 − p)(1/n1 + 1/n2)), p = (x1 + x2)/(n1 + n2) (statsmodels' `proportions_ztest`
    default; its documented case 5/83 vs 12/99 gives z = −1.4078, p = 0.15918).

    An empty group, or a pooled rate of 0 or 1 (no variance), cannot be tested: (None, None).
    """
    if n1 <= 0 or n2 <= 0:
        return ZTest(None, None)
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return ZTest(None, None)
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return ZTest(z, math.erfc(abs(z) / math.sqrt(2)))  # 2 × (1 − Φ(|z|))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's (1979) step-down adjusted p-values, in the order given: the k-th smallest of m
    p-values is multiplied by (m − k + 1), made non-decreasing, capped at 1. None (not tested)
    stays None and does not count in m."""
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(tested)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for k, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (m - k) * p))
        out[i] = running
    return out


@dataclass(frozen=True)
class ShiftShare:
    """One segment's part of a change Y1 − Y0 where Y = V × mix × rate (V the total volume, mix
    the segment's share of it, rate its outcome per unit of volume): volume + mix + rate is
    exactly y1 − y0."""

    segment: str
    y0: float
    y1: float
    volume: float
    mix: float
    rate: float

    @property
    def change(self) -> float:
        return self.y1 - self.y0


def shift_share(before: Mapping[str, tuple[float, float]],
                after: Mapping[str, tuple[float, float]]) -> list[ShiftShare]:
    """Decompose each segment's change of outcome y = v × r (v its volume, r = y/v) into volume,
    mix and rate effects: y = V · m · r with V the total volume and m = v/V. Each factor's effect
    is its Shapley value (the average of its marginal change over the orders the three factors
    can change in — exact for a product, no residual "interaction" term); the rate effect is
    taken as the rest, so the three parts sum exactly to the segment's change whatever the
    rounding. `before`/`after` map a segment to (outcome, volume). A segment with no volume in
    one period takes the other period's rate there (its mix is 0, so its outcome is too)."""
    total0 = sum(v for _, v in before.values())
    total1 = sum(v for _, v in after.values())
    out = []
    for seg in list(dict.fromkeys([*before, *after])):
        y0, v0 = before.get(seg, (0.0, 0.0))
        y1, v1 = after.get(seg, (0.0, 0.0))
        m0 = v0 / total0 if total0 else 0.0
        m1 = v1 / total1 if total1 else 0.0
        r0 = y0 / v0 if v0 else None
        r1 = y1 / v1 if v1 else None
        r0, r1 = (r0 if r0 is not None else (r1 or 0.0)), (r1 if r1 is not None else (r0 or 0.0))
        volume = (total1 - total0) * ((m0 * r0 + m1 * r1) / 3 + (m0 * r1 + m1 * r0) / 6)
        mix = (m1 - m0) * ((total0 * r0 + total1 * r1) / 3 + (total0 * r1 + total1 * r0) / 6)
        out.append(ShiftShare(str(seg), y0, y1, volume, mix, (y1 - y0) - volume - mix))
    return out
