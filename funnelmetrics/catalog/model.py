"""What a catalogue entry is: a small declarative object (SPEC §3 "Metric catalogue").

A metric is a set of named *measures* (a count, sum or statistic of an entity's rows, by the
period their time column falls in, or a snapshot at each period's end) and a `combine` rule that
turns them into `value` (plus `numerator`/`denominator` for ratios). Its `kind` says what sort of
figure it is (`Kind`); the catalogue's validation rules (`catalog.rules`) hold each kind to what it
implies. The compiler (`funnelmetrics.compile.compiler`) turns an entry and a query into one Ibis
expression.

What a metric reads of the `reach` entity (which stages' reach times) follows from its own
measures: a time column, expression or predicate that reads reach times says which
(`reach_stages(ctx)`, see `catalog.common`); one that does not say makes the query compute every
stage's reach time — slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

LANGS = ("en", "id", "ms")


@dataclass(frozen=True)
class Text:
    """A text in the three first-class languages."""

    en: str
    id: str
    ms: str

    def __call__(self, lang: str = "en") -> str:
        return getattr(self, lang if lang in LANGS else "en")


class Kind(StrEnum):
    """What sort of figure a metric is (SPEC §3; MetricFlow's metric types)."""

    COUNT = "count"  # rows counted per period
    SUM = "sum"  # amounts summed per period
    RATIO = "ratio"  # numerator / denominator, null for a zero denominator
    COHORT_CONVERSION = "cohort_conversion"  # entrants of a period converting within a window
    SNAPSHOT = "snapshot"  # a state at each period's end (open pipeline, MRR)
    GROWTH = "growth"  # this period against the previous one
    DURATION = "duration"  # a statistic of elapsed days
    SCORE = "score"  # a score per response or account (eNPS, engagement)


class Unit(StrEnum):
    COUNT = "count"
    RATIO = "ratio"
    CURRENCY = "currency"
    CURRENCY_PER_DAY = "currency_per_day"
    DAYS = "days"
    MONTHS = "months"
    SCORE = "score"


class Agg(StrEnum):
    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    P90 = "p90"
    COUNT_DISTINCT = "count_distinct"

    @property
    def additive(self) -> bool:
        """Empty periods give 0 (not null) for additive aggregates."""
        return self in (Agg.COUNT, Agg.SUM, Agg.COUNT_DISTINCT)


class Time(StrEnum):
    """How a measure meets the calendar (SPEC §3 "Time semantics")."""

    PERIOD = "period"  # rows whose time falls in the period
    COHORT = "cohort"  # entities by when they entered the starting stage, followed for a window
    SNAPSHOT = "snapshot"  # rows in a state at the period's end (just before the next starts)


# A column name, or a function of the compile context returning an Ibis expression.
Expr = str | Callable[..., Any]


def reach_stages_of(part: Any, ctx: Any) -> set[str] | None:
    """The stages whose reach times a measure's part reads: none for a column name, what the
    part says for one that knows (`reach_stages`), else None (unknown: every stage)."""
    if part is None or isinstance(part, str):
        return set()
    says = getattr(part, "reach_stages", None)
    return None if says is None else set(says(ctx))


@dataclass(frozen=True)
class Measure:
    """An aggregate of an entity's rows per period (and dimension)."""

    entity: str | Callable[..., str]  # an entity name, or ctx -> name
    agg: Agg | Callable[..., Agg] = Agg.COUNT  # or ctx -> Agg (e.g. the `stat` parameter)
    # PERIOD/COHORT: the column (or ctx -> column name) whose instant places a row in a period
    time: str | Callable[..., str] | None = None
    expr: Expr | None = None  # what is summed / averaged / counted distinct
    where: Callable[..., Any] | None = None  # (ctx, t) -> boolean
    time_kind: Time = Time.PERIOD
    active: Callable[..., Any] | None = None  # SNAPSHOT: (ctx, t, next_start) -> boolean

    def reach_stages(self, ctx: Any) -> set[str] | None:
        """The reach times this measure reads (None: unknown, so every stage's)."""
        out: set[str] = set()
        for part in (self.time, self.expr, self.where):
            stages = reach_stages_of(part, ctx)
            if stages is None:
                return None
            out |= stages
        return out


@dataclass(frozen=True)
class Param:
    name: str
    default: Any
    description: str
    choices: tuple[str, ...] | None = None  # None: free; ("<stage>",) means a funnel stage
    kind: str = "text"  # text | stage | number | bool | choice

    def parse(self, value: Any) -> Any:
        if self.kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                from funnelmetrics.errors import QueryError

                raise QueryError(f"parameter {self.name} must be a number, not {value!r}") \
                    from None
        if self.kind == "bool":
            return str(value).lower() in ("1", "true", "yes", "on")
        return str(value)


@dataclass(frozen=True)
class Metric:
    """One catalogue entry."""

    id: str
    name: Text
    description: Text
    unit: Unit
    higher_is_better: bool
    measures: Mapping[str, Measure]
    combine: Callable[..., Mapping[str, Any]]  # (ctx, cols) -> {"value": …, ["numerator", …]}
    entity: str  # whose dimensions the metric can be split by
    kind: Kind  # what sort of figure it is (validated by catalog.rules)
    time: Time = Time.PERIOD
    formula: str = ""
    params: tuple[Param, ...] = ()
    is_ratio: bool = False
    lag_periods: int = 0  # combine needs the previous period's measures (growth metrics)
    group: str = "funnel"  # funnel, deals, revenue, marketing, product, team
    benchmark: tuple[float, float] | None = None  # (good, great) marks where an industry one exists
    # parameters the metric fixes (not offered to the user): lead_conversion_rate is
    # stage_conversion_rate from ":first" to ":last" (keywords: :first, :last, :qualified)
    fixed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def display_unit(self) -> str:
        """How values read: a ratio whose benchmark marks are 2 or more is a multiple
        (LTV:CAC 3×, pipeline coverage 4×), not a share shown in per cent."""
        if self.unit is Unit.RATIO and self.benchmark and max(self.benchmark) >= 2:
            return "multiple"
        return self.unit.value

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)
