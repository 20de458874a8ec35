"""Building blocks shared by catalogue entries: predicates, expressions and parameters."""

from __future__ import annotations

from typing import Any

import ibis

from funnelmetrics.catalog.model import Agg, Param
from funnelmetrics.compile.compiler import Context, days_between, safe_div
from funnelmetrics.compile.reach import next_reach, reach_column

# ---- parameters -----------------------------------------------------------------------------
STAT = Param("stat", "mean", "Statistic over the durations: mean, median or p90.",
             choices=("mean", "median", "p90"), kind="choice")
STAGE = Param("stage", None, "Funnel stage (default: the funnel's second stage).", kind="stage")
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
def reach_of(param: str) -> Any:
    """The time column of the stage named by a parameter."""
    return lambda ctx: reach_column(ctx.params[param])


def first_reach(ctx: Context) -> str:
    """The time column of the funnel's first stage (a lead's created_at)."""
    return reach_column(ctx.funnel.first)


def reached(param: str) -> Any:
    return lambda ctx, t: t[reach_column(ctx.params[param])].notnull()


def converted_between(from_stage: str, to_stage: str) -> Any:
    """Reached `to_stage` within the conversion window after reaching `from_stage`."""

    def predicate(ctx: Context, t: ibis.Table) -> ibis.Value:
        start, end = t[reach_column(from_stage)], t[reach_column(to_stage)]
        # end ≤ start + window, as elapsed microseconds (cheaper than interval arithmetic)
        limit = int(round(ctx.window_days * 86400)) * 1_000_000
        return end.notnull() & (end.delta(start, unit="microsecond") <= limit)

    return predicate


def converted(ctx: Context, t: ibis.Table) -> ibis.Value:
    """Reached the `to_stage` parameter within the window after the `from_stage` parameter."""
    return converted_between(ctx.params["from_stage"], ctx.params["to_stage"])(ctx, t)


def duration_in(stage: str | None = None) -> Any:
    """Days from reaching `stage` (default: the `stage` parameter) to the next reached stage."""

    def expr(ctx: Context, t: ibis.Table) -> ibis.Value:
        s = stage or ctx.params["stage"]
        return days_between(t[reach_column(s)], next_reach(t, ctx.funnel, ctx.mode, s))

    return expr


def moved_on_from(stage: str | None = None) -> Any:
    """The lead reached a later stage after `stage` (default: the `stage` parameter)."""

    def predicate(ctx: Context, t: ibis.Table) -> ibis.Value:
        return next_reach(t, ctx.funnel, ctx.mode, stage or ctx.params["stage"]).notnull()

    return predicate


# ---- combine rules --------------------------------------------------------------------------
def value_of(name: str) -> Any:
    return lambda ctx, c: {"value": c[name]}


def ratio_of(num: str, den: str) -> Any:
    return lambda ctx, c: {"value": safe_div(c[num], c[den]), "numerator": c[num],
                           "denominator": c[den]}
