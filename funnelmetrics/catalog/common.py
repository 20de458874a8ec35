"""Building blocks shared by catalogue entries: predicates, expressions and parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from funnelmetrics.catalog.model import Agg, Param
from funnelmetrics.compile.context import Context, days_between, safe_div
from funnelmetrics.semantic.reach import needed_stages, next_reach, reach_column

# ---- parameters -----------------------------------------------------------------------------
STAT = Param("stat", "mean", "Statistic over the durations: mean, median or p90.",
             choices=("mean", "median", "p90"), kind="choice")
STAGE = Param("stage", None, "Funnel stage (default: the funnel's second stage).", kind="stage")
QUALIFIED_STAGE = Param("stage", ":qualified", "Funnel stage (default: the qualified stage, "
                        "settings' qualified_stage).", kind="stage")
FROM_STAGE = Param("from_stage", None, "Starting stage (default: the funnel's first).",
                   kind="stage")
TO_STAGE = Param("to_stage", None, "Target stage (default: the stage after from_stage).",
                 kind="stage")
MODE = Param("mode", None, "cumulative (a later stage counts) or strict (the stage itself).",
             choices=("cumulative", "strict"), kind="choice")
WINDOW = Param("window_days", None, "Conversion window in days (default from settings).",
               kind="number")
WEIGHTED = Param("weighted", False, "Weight each deal by its probability.", kind="bool")
CYCLE_FROM = Param("from", "opportunity", "Measure the cycle from the opportunity's or the "
                   "lead's created_at.", choices=("opportunity", "lead"), kind="choice")


def stat_agg(ctx: Context) -> Agg:
    return {"mean": Agg.MEAN, "median": Agg.MEDIAN, "p90": Agg.P90}[ctx.params["stat"]]


# ---- opportunities --------------------------------------------------------------------------
def is_won(ctx: Context, t: ibis.Table) -> ibis.Value:
    return t.status == "won"


def is_closed(ctx: Context, t: ibis.Table) -> ibis.Value:
    return t.status.isin(["won", "lost"])


def is_open_now(ctx: Context, t: ibis.Table) -> ibis.Value:
    """Open at the query's instant (the as-of instant, or now)."""
    return t.status == "open"


def open_at(ctx: Context, t: ibis.Table, next_start: ibis.Value) -> ibis.Value:
    """Open at a period's end (SPEC §3): created before `next`, not closed before it."""
    return (t.created_at < next_start) & (t.closed_at.isnull() | (t.closed_at >= next_start))


def deal_amount(ctx: Context, t: ibis.Table) -> ibis.Value:
    """The deal's amount, weighted by probability when the `weighted` parameter is on."""
    if ctx.params.get("weighted"):
        return t.amount * t.probability.fill_null(0)
    return t.amount


def acv(ctx: Context, t: ibis.Table) -> ibis.Value:
    """amount / max(contract_months, 12) × 12 (SPEC §3)."""
    months = t.contract_months.fill_null(12)
    return t.amount / ibis.greatest(months, 12) * 12


def cycle_days(ctx: Context, t: ibis.Table) -> ibis.Value:
    start = t.lead_created_at if ctx.params.get("from") == "lead" else t.created_at
    return days_between(start, t.closed_at)


def cycle_entity(ctx: Context) -> str:
    return "opportunities_with_lead" if ctx.params.get("from") == "lead" else "deals"


# ---- funnel ---------------------------------------------------------------------------------
# Each of these reads reach times and says which (`reach_stages`): the compiler computes only
# those (see `catalog.model`). A stage is named by a parameter (`param`) or fixed (`stage`).
def _stage(ctx: Context, param: str | None, stage: str | None) -> str:
    if stage is not None:
        return stage
    if param is not None:
        return ctx.params[param]
    assert ctx.funnel is not None
    return ctx.funnel.first


@dataclass(frozen=True)
class ReachTime:
    """The time column of a stage: when each lead reached it (default: the funnel's first
    stage, a lead's created_at)."""

    param: str | None = None
    stage: str | None = None

    def __call__(self, ctx: Context) -> str:
        return reach_column(_stage(ctx, self.param, self.stage))

    def reach_stages(self, ctx: Context) -> set[str]:
        return {_stage(ctx, self.param, self.stage)}


def reach_of(param: str) -> ReachTime:
    """The time column of the stage named by a parameter."""
    return ReachTime(param)


first_reach = ReachTime()  # the funnel's first stage (a lead's created_at)


@dataclass(frozen=True)
class Converted:
    """Reached the `to` stage within the conversion window after reaching the `from` stage."""

    from_param: str | None = "from_stage"
    to_param: str | None = "to_stage"
    from_stage: str | None = None
    to_stage: str | None = None

    def stages(self, ctx: Context) -> tuple[str, str]:
        return (_stage(ctx, self.from_param, self.from_stage),
                _stage(ctx, self.to_param, self.to_stage))

    def __call__(self, ctx: Context, t: ibis.Table) -> ibis.Value:
        start_stage, end_stage = self.stages(ctx)
        start, end = t[reach_column(start_stage)], t[reach_column(end_stage)]
        # end ≤ start + window, as elapsed microseconds (cheaper than interval arithmetic)
        limit = int(round(ctx.window_days * 86400)) * 1_000_000
        return end.notnull() & (end.delta(start, unit="microsecond") <= limit)

    def reach_stages(self, ctx: Context) -> set[str]:
        return set(self.stages(ctx))


def converted_between(from_stage: str, to_stage: str) -> Converted:
    """Reached `to_stage` within the conversion window after reaching `from_stage`."""
    return Converted(None, None, from_stage, to_stage)


converted = Converted()  # from the `from_stage` parameter to the `to_stage` parameter


@dataclass(frozen=True)
class _AfterStage:
    """Reads a stage's reach time and what `next_reach` reads after it."""

    param: str | None = "stage"
    stage: str | None = None

    def reach_stages(self, ctx: Context) -> set[str]:
        assert ctx.funnel is not None
        return needed_stages(ctx.funnel, ctx.mode, (), [_stage(ctx, self.param, self.stage)])

    def next_reach(self, ctx: Context, t: ibis.Table) -> ibis.Value:
        assert ctx.funnel is not None
        return next_reach(t, ctx.funnel, ctx.mode, _stage(ctx, self.param, self.stage))


class DurationIn(_AfterStage):
    """Days from reaching the stage to the next reached stage (never negative)."""

    def __call__(self, ctx: Context, t: ibis.Table) -> ibis.Value:
        start = t[reach_column(_stage(ctx, self.param, self.stage))]
        return days_between(start, self.next_reach(ctx, t))


class MovedOnFrom(_AfterStage):
    """The lead reached a later stage after the stage."""

    def __call__(self, ctx: Context, t: ibis.Table) -> ibis.Value:
        return self.next_reach(ctx, t).notnull()


def duration_in(stage: str | None = None) -> DurationIn:
    """Days in `stage` (default: the `stage` parameter)."""
    return DurationIn("stage" if stage is None else None, stage)


def moved_on_from(stage: str | None = None) -> MovedOnFrom:
    """Moved on from `stage` (default: the `stage` parameter)."""
    return MovedOnFrom("stage" if stage is None else None, stage)


# ---- combine rules --------------------------------------------------------------------------
def value_of(name: str) -> Any:
    return lambda ctx, c: {"value": c[name]}


def ratio_of(num: str, den: str) -> Any:
    return lambda ctx, c: {"value": safe_div(c[num], c[den]), "numerator": c[num],
                           "denominator": c[den]}
