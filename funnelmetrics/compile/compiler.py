"""Turn (catalogue entry, query) into one Ibis expression.

1. Measures on the same entity and time column are fused into one grouped aggregate (one scan).
2. A frame holds every period of the range (× every dimension combination seen), so empty
   periods appear: additive measures give 0 there, everything else null.
3. Each aggregate is left-joined onto the frame (dimensions compared null-safely) and the entry's
   `combine` turns the measures into `value` (and `numerator`/`denominator`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis

from funnelmetrics.catalog.model import Agg, Measure, Metric, Time
from funnelmetrics.compile import entities as ent
from funnelmetrics.compile.time import Window, floor
from funnelmetrics.config import Config, Funnel, Mode

MICROS_PER_DAY = 86_400_000_000


@dataclass
class Context:
    """Everything a measure or a combine rule may consult."""

    scope: ent.Scope
    config: Config
    window: Window
    by: list[str]
    where: Mapping[str, Any]
    params: dict[str, Any]
    now: dt.datetime
    mode: Mode = Mode.CUMULATIVE
    funnel: Funnel | None = None
    reach_stages: set[str] | None = None  # stages whose reach times are needed (None: all)
    follows: list[str] = field(default_factory=list)  # stages whose next reach time is needed
    cache: dict[str, ibis.Table] = field(default_factory=dict)
    frame: ibis.Table | None = None

    @property
    def dims(self) -> list[str]:
        return ent.dim_columns(self.by)

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


def _eval(ctx: Context, t: ibis.Table, expr: Any) -> ibis.Value:
    if expr is None:
        return None
    return t[expr] if isinstance(expr, str) else expr(ctx, t)


def entity_rows(ctx: Context, entity: str) -> ibis.Table:
    """The entity's rows with the query's dimensions attached and its filters applied."""
    key = f"entity:{entity}"
    if key not in ctx.cache:
        from funnelmetrics.compile.reach import needed_stages, reach_times

        if entity in ent.DERIVED:  # built from the query; dimensions and filters applied
            ctx.cache[key] = ent.DERIVED[entity](ctx)
            return ctx.cache[key]
        if entity == "reach":
            stages = None if ctx.reach_stages is None else needed_stages(
                ctx.funnel, ctx.mode, ctx.reach_stages, ctx.follows)
            t = reach_times(ctx.scope, ctx.funnel, ctx.mode, stages,
                            leads=bool(ctx.by or ctx.where))
        else:
            t = ent.base(ctx.scope, entity)
        dims_entity = ent.DIMENSIONS_OF.get(entity, entity)
        t = ent.with_dimensions(ctx.scope, dims_entity, t, [*ctx.by, *ctx.where])
        ctx.cache[key] = ent.apply_where(t, ctx.where)
    return ctx.cache[key]


def agg_of(ctx: Context, m: Measure) -> Agg:
    return m.agg(ctx) if callable(m.agg) else m.agg


def entity_of(ctx: Context, m: Measure) -> str:
    return m.entity(ctx) if callable(m.entity) else m.entity


def _aggregate(t: ibis.Table, ctx: Context, m: Measure) -> ibis.Value:
    cond = m.where(ctx, t) if m.where is not None else None
    agg = agg_of(ctx, m)
    if agg is Agg.COUNT:
        return t.count(where=cond)
    value = _eval(ctx, t, m.expr)
    if agg is Agg.SUM:
        return value.sum(where=cond)
    if agg is Agg.MEAN:
        return value.mean(where=cond)
    if agg is Agg.MEDIAN:
        return value.quantile(0.5, where=cond)
    if agg is Agg.P90:
        return value.quantile(0.9, where=cond)
    return value.nunique(where=cond)


def _time_name(ctx: Context, m: Measure) -> str | None:
    """A measure's time column: a name, or a function of the context returning one."""
    return m.time(ctx) if callable(m.time) else m.time


def _fusion_key(ctx: Context, m: Measure) -> tuple[Any, ...]:
    if m.time_kind is Time.SNAPSHOT:
        return (entity_of(ctx, m), m.time_kind, id(m.active))
    return (entity_of(ctx, m), m.time_kind, _time_name(ctx, m))


def _part(ctx: Context, members: list[tuple[str, Measure]], window: Window) -> ibis.Table:
    """One grouped aggregate for measures sharing an entity and a time."""
    first = members[0][1]
    t = entity_rows(ctx, entity_of(ctx, first))
    group = ctx.scope.ws.grouped
    if first.time_kind is Time.SNAPSHOT:
        spine = window.spine()
        t = spine.join(t, [first.active(ctx, t, spine.next_start)])
        return group(t, ["period_start", *ctx.dims],
                     {name: _aggregate(t, ctx, m) for name, m in members})
    time = _time_name(ctx, first)
    calendar = time in ent.CALENDAR_DATES.get(entity_of(ctx, first), ())
    t = t.mutate(_ts=t[time])
    t = t.filter(t._ts.notnull() & window.contains(t._ts, calendar=calendar))
    t = t.mutate(_pk=window.period_key(t._ts, calendar=calendar))  # the start date comes after
    part = group(t, ["_pk", *ctx.dims], {name: _aggregate(t, ctx, m) for name, m in members})
    return part.select(*[c for c in part.columns if c != "_pk"],
                       period_start=window.key_start(part._pk))


def _frame(ctx: Context, parts: list[ibis.Table], window: Window) -> ibis.Table:
    frame = window.spine()
    if ctx.dims:
        combos = ibis.union(*[p.select(*ctx.dims) for p in parts]).distinct()
        frame = frame.cross_join(combos)
    for part in parts:
        names = [c for c in part.columns if c not in ("period_start", *ctx.dims)]
        right = part.select(_p=part.period_start,
                            **{f"_k{i}": part[d] for i, d in enumerate(ctx.dims)},
                            **{n: part[n] for n in names})
        preds = [frame.period_start == right._p] + [
            frame[d].identical_to(right[f"_k{i}"]) for i, d in enumerate(ctx.dims)]
        frame = frame.left_join(right, preds).drop("_p", *[f"_k{i}" for i in range(len(ctx.dims))])
    return frame


def measure_frame(ctx: Context, metric: Metric, window: Window | None = None) -> ibis.Table:
    """Every period (× dimension values) with one column per measure (nulls where no rows)."""
    window = window or ctx.window
    groups: dict[tuple[Any, ...], list[tuple[str, Measure]]] = {}
    for name, m in metric.measures.items():
        groups.setdefault(_fusion_key(ctx, m), []).append((name, m))
    parts = [_part(ctx, members, window) for members in groups.values()]
    ctx.frame = _frame(ctx, parts, window)
    return ctx.frame


def compile_metric(ctx: Context, metric: Metric) -> ibis.Table:
    """The metric as one expression: period_start, dimensions, value[, numerator, denominator]."""
    window = ctx.window
    if metric.lag_periods:
        window = Window(window.grain, window.start, window.end, window.tz,
                        lead_in=metric.lag_periods)
    frame = measure_frame(ctx, metric, window)
    cols = {}
    for name, m in metric.measures.items():
        cols[name] = frame[name].fill_null(0) if agg_of(ctx, m).additive else frame[name]
    out = dict(metric.combine(ctx, cols))
    value = out.pop("value")
    extra = {"value": value.cast("float64")}
    if metric.is_ratio:
        extra["numerator"] = out.pop("numerator").cast("float64")
        extra["denominator"] = out.pop("denominator").cast("float64")
    if metric.time is Time.COHORT:
        window_end = frame.next_start + ibis.interval(seconds=int(ctx.window_days * 86400))
        extra["immature"] = window_end > ctx.now
    # a period not over at the query's instant (the as-of instant, or now): figures may move
    extra["partial"] = frame.next_start > ctx.now
    result = frame.select("period_start", *[frame[d].name(d[4:]) for d in ctx.dims], **extra)
    if metric.lag_periods:
        result = result.filter(result.period_start >= floor(ctx.window.start, ctx.window.grain))
    return result.order_by(["period_start", *ctx.by])
