"""A finding — one thing the numbers say, with the numbers behind it — and the period insights
look at.

Every detector returns `Finding`s; `to_json` gives the issue's shape (fields that do not apply
are null); `details` keeps the counts each figure was computed from (numerators, denominators,
baseline periods), and `rows` names the rows behind it (a table and filter for the dashboard's
`/rows/{table}` page).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from funnelmetrics.compile.time import Grain, floor, parse_grain, shift
from funnelmetrics.errors import QueryError

KINDS = ("bottleneck", "segment", "change", "stalled_deal", "churn_risk", "benchmark", "kpi")


@dataclass
class Finding:
    kind: str
    metric: str
    current: float | None = None
    baseline: float | None = None
    impact: float | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    dimension: str | None = None
    dimension_value: str | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, Any] | None = None  # {"table": T, "where": {...}} for the rows behind it

    def to_json(self, message: str) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "from_stage": self.from_stage,
                "to_stage": self.to_stage, "dimension": self.dimension,
                "dimension_value": self.dimension_value, "current": clean(self.current),
                "baseline": clean(self.baseline), "p_value": clean(self.p_value),
                "p_adjusted": clean(self.p_adjusted), "impact": clean(self.impact),
                "message": message}


def clean(value: Any) -> Any:
    """NaN and ±inf are no data (null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def by_impact(findings: list[Finding]) -> list[Finding]:
    """Largest impact first; findings without one last (in their order)."""
    return sorted(findings, key=lambda f: -(f.impact if f.impact is not None
                                            and math.isfinite(f.impact) else -math.inf))


@dataclass(frozen=True)
class Period:
    """One calendar period of a grain, `start` inclusive to `next_start` exclusive."""

    start: dt.date
    grain: Grain

    @property
    def next_start(self) -> dt.date:
        return shift(self.start, self.grain)

    @property
    def end(self) -> dt.date:
        """The last day (inclusive, as catalogue queries take it)."""
        return self.next_start - dt.timedelta(days=1)

    def back(self, n: int) -> Period:
        return Period(shift(self.start, self.grain, -n), self.grain)

    @property
    def label(self) -> str:
        if self.grain is Grain.MONTH:
            return self.start.strftime("%Y-%m")
        if self.grain is Grain.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.grain is Grain.YEAR:
            return str(self.start.year)
        return self.start.isoformat()


def parse_period(text: str | dt.date | None, grain: str | Grain = "month",
                 today: dt.date | None = None) -> Period:
    """`2026-06`, `2026-06-01`, `2026-Q2` or `2026` (any day inside the period); None: the last
    full period before `today`."""
    g = parse_grain(grain)
    if g is Grain.ALL:
        raise QueryError("insights compare periods: grain must be day, week, month, quarter or "
                         "year, not all")
    if text is None:
        return Period(shift(floor(today or dt.date.today(), g), g, -1), g)
    if isinstance(text, dt.date):
        return Period(floor(text, g), g)
    raw = str(text).strip()
    try:
        if len(raw) == 4 and raw.isdigit():
            day = dt.date(int(raw), 1, 1)
        elif len(raw) == 7 and raw[4] == "-" and raw[5] in "Qq":
            day = dt.date(int(raw[:4]), (int(raw[6]) - 1) * 3 + 1, 1)
        elif len(raw) == 7:
            day = dt.date(int(raw[:4]), int(raw[5:]), 1)
        else:
            day = dt.date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"period {raw!r}: use YYYY-MM, YYYY-MM-DD, YYYY-Qn or YYYY") from None
    if not 1900 <= day.year <= 9998:
        raise QueryError(f"period {raw!r}: the year must be between 1900 and 9998")
    return Period(floor(day, g), g)


def ask(ws: Any, queries: list[tuple[str, dict[str, Any]]],
        memo: dict[str, Any] | None = None) -> list[Any]:
    """`ws.metrics(queries)` (one batch), remembering answers in `memo` so that detectors run
    together ask the catalogue each question once."""
    import json

    if memo is None:
        return ws.metrics(queries)
    keys = [json.dumps([m, q], default=str, sort_keys=True) for m, q in queries]
    missing = [(k, q) for k, q in zip(keys, queries, strict=True) if k not in memo]
    if missing:
        unique = dict(missing)
        for key, frame in zip(unique, ws.metrics(list(unique.values())), strict=True):
            memo[key] = frame
    return [memo[k] for k in keys]
