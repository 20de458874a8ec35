"""Turn (catalogue entry, query) into one Ibis expression.

1. Measures on the same entity and time column are fused into one grouped aggregate (one scan).
2. A frame holds every period of the range (× every dimension combination seen), so empty
   periods appear: additive measures give 0 there, everything else null.
3. Each aggregate is left-joined onto the frame (dimensions compared null-safely) and the entry's
   `combine` turns the measures into `value` (and `numerator`/`denominator`).
"""

from __future__ import annotations

from typing import Any

import ibis

from funnelmetrics.catalog.model import Agg, Measure, Metric, Time
from funnelmetrics.compile.context import Context
from funnelmetrics.compile.time import Window, floor
from funnelmetrics.semantic import registry
from funnelmetrics.semantic.model import History

__all__ = ["Context", "compile_metric", "entity_of", "entity_rows", "measure_frame"]


def _eval(ctx: Context, t: ibis.Table, expr: Any) -> ibis.Value:
    if expr is None:
        return None
    return t[expr] if isinstance(expr, str) else expr(ctx, t)


def entity_rows(ctx: Context, entity: str, *, at_period_end: bool = False) -> ibis.Table:
    """The entity's rows with the query's dimensions attached and its filters applied. With
    `at_period_end` (snapshot measures), dimensions over time and filters on them are left for
    `_at_period_end`."""
    key = f"entity:{entity}:{at_period_end}"
    if key not in ctx.cache:
        declared = registry.get(entity)
        if declared.from_query is not None:  # built from the query: dimensions, filters applied
            ctx.cache[key] = declared.from_query(ctx)
            return ctx.cache[key]
        t = registry.base(ctx.scope, entity)
        t = registry.with_dimensions(ctx.scope, entity, t, [*ctx.by, *ctx.where],
                                     at_period_end=at_period_end)
        later = registry.history_names(entity) if at_period_end else ()
        ctx.cache[key] = registry.apply_where(t, ctx.where, skip=later)
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
    entity = entity_of(ctx, first)
    group = ctx.scope.ws.grouped
    if first.time_kind is Time.SNAPSHOT:
        t = entity_rows(ctx, entity, at_period_end=True)
        spine = window.spine()
        t = spine.join(t, [first.active(ctx, t, spine.next_start)])
        t = _at_period_end(ctx, entity, t)
        return group(t, ["period_start", *ctx.dims],
                     {name: _aggregate(t, ctx, m) for name, m in members})
    t = entity_rows(ctx, entity)
    time = _time_name(ctx, first)
    calendar = time in registry.get(entity).calendar_dates
    t = t.mutate(_ts=t[time])
    t = t.filter(t._ts.notnull() & window.contains(t._ts, calendar=calendar))
    t = t.mutate(_pk=window.period_key(t._ts, calendar=calendar))  # the start date comes after
    part = group(t, ["_pk", *ctx.dims], {name: _aggregate(t, ctx, m) for name, m in members})
    return part.select(*[c for c in part.columns if c != "_pk"],
                       period_start=window.key_start(part._pk))


def _at_period_end(ctx: Context, entity: str, t: ibis.Table) -> ibis.Table:
    """Snapshot rows (one per period and row) with the query's dimensions over time attached
    as they stood at each period's end, and the query's filters on them applied."""
    wanted = [n for n in dict.fromkeys([*ctx.by, *ctx.where])
              if n in registry.history_names(entity)]
    for history in registry.owner(entity).history:
        if history.name in wanted:
            t = _value_at_end(ctx, t, history)
    return registry.apply_where(t, {n: ctx.where[n] for n in wanted if n in ctx.where})


def _value_at_end(ctx: Context, t: ibis.Table, history: History) -> ibis.Table:
    """`dim:NAME` = the column of the row's latest event before the period's next start; with
    none before then its earliest event's; with no event at all its own column."""
    events = registry.base(ctx.scope, history.events)
    ev = events.select(_hk=events[history.key], _ht=events[history.time],
                       _hv=events[history.column].cast("string"))
    pairs = t.select(_pk=t[history.key], _pn=t.next_start).distinct()
    j = pairs.join(ev, pairs._pk == ev._hk)
    last = j.group_by(["_pk", "_pn"]).aggregate(
        _last=j._hv.argmax(j._ht, where=j._ht < j._pn), _first=j._hv.argmin(j._ht))
    j = t.left_join(last, [t[history.key] == last._pk, t.next_start == last._pn])
    value = ibis.coalesce(j._last, j._first, j[history.column].cast("string"))
    return j.mutate(**{f"dim:{history.name}": value}).drop("_pk", "_pn", "_last", "_first")


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
    if "note" in out:  # why a value is not shown (eNPS of too few respondents)
        extra["note"] = out.pop("note")
    if metric.time is Time.COHORT:
        window_end = frame.next_start + ibis.interval(seconds=int(ctx.window_days * 86400))
        extra["immature"] = window_end > ctx.now_value()
    # a period not over at the query's instant (the as-of instant, or now): figures may move
    extra["partial"] = frame.next_start > ctx.now_value()
    result = frame.select("period_start", *[frame[d].name(d[4:]) for d in ctx.dims], **extra)
    if metric.lag_periods:
        result = result.filter(result.period_start >= floor(ctx.window.start, ctx.window.grain))
    return result.order_by(["period_start", *ctx.by])
