"""What a definition may consult while a query is compiled: the compile context, and the two
expressions most definitions use (exact elapsed days, division with null for a zero
denominator)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis

from funnelmetrics.compile.time import Window
from funnelmetrics.config import Config, Funnel, Mode
from funnelmetrics.semantic.model import Scope

MICROS_PER_DAY = 86_400_000_000


@dataclass
class Context:
    """Everything a measure, a combine rule or an entity built from the query may consult."""

    scope: Scope
    config: Config
    window: Window
    by: list[str]
    where: Mapping[str, Any]
    params: dict[str, Any]
    instant: dt.datetime  # the query's instant (as-of, or now), naive UTC: read it as `now`
    mode: Mode = Mode.CUMULATIVE
    funnel: Funnel | None = None
    reach_stages: set[str] | None = None  # reach columns the query reads (None: every stage)
    cache: dict[str, ibis.Table] = field(default_factory=dict)
    frame: ibis.Table | None = None
    # the instant as it appears in the SQL (None: a literal of `instant`); a kept query
    # (`compile.sqlcache`) puts a placeholder there, filled in each time it runs
    now_sql: ibis.Value | None = None
    now_read: bool = False  # Python code read the instant: the SQL holds for this day only

    @property
    def now(self) -> dt.datetime:
        """The query's instant, for Python code that decides with it (noted in `now_read`)."""
        self.now_read = True
        return self.instant

    def now_value(self) -> ibis.Value:
        """The query's instant as an expression (a comparison in the SQL: `now_read` stays)."""
        return self.now_sql if self.now_sql is not None else ibis.literal(self.instant)

    @property
    def dims(self) -> list[str]:
        return [f"dim:{n}" for n in self.by]

    @property
    def window_days(self) -> float:
        return float(self.params.get("window_days") or self.config.conversion_window_days)

    def previous(self, col: ibis.Value) -> ibis.Value:
        """The same column in the previous period (same dimension values)."""
        assert self.frame is not None
        w = ibis.window(group_by=[self.frame[d] for d in self.dims],
                        order_by=self.frame.period_start)
        return col.lag().over(w)


def days_between(start: ibis.Value, end: ibis.Value) -> ibis.Value:
    """Exact elapsed days (seconds / 86 400), not calendar-day differences (SPEC §3)."""
    return end.delta(start, unit="microsecond").cast("float64") / MICROS_PER_DAY


def safe_div(num: ibis.Value, den: ibis.Value) -> ibis.Value:
    """num / den, null when the denominator is 0 or null (SPEC §3: 0 denominator → no data)."""
    return ibis.ifelse(den == 0, ibis.null("float64"), num.cast("float64") / den)
