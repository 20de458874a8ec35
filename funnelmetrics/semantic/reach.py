"""Reach times: when each lead reached each stage of a funnel (SPEC §2, "Funnels are configured").

Cumulative mode (default): a lead has reached stage k at its earliest event of stage k or of any
later stage of the funnel. Strict mode: only an event of stage k itself counts. In both modes every
lead has reached the first stage at its `created_at`. One pass over `stage_events` (a grouped
aggregate with one filtered MIN per stage), joined to the leads.

The `reach` entity: the leads with a `reach:STAGE` column per stage the query reads (its
definitions say which: `Context.reach_stages`), split and filtered by the leads' dimensions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import ibis

from funnelmetrics.config import Funnel, Mode
from funnelmetrics.semantic.model import Entity, Scope
from funnelmetrics.semantic.registry import apply_where, base, declare, with_dimensions

if TYPE_CHECKING:
    from funnelmetrics.compile.context import Context


def reach_column(stage: str) -> str:
    return f"reach:{stage}"


def needed_stages(funnel: Funnel, mode: Mode, named: Iterable[str],
                  followed: Iterable[str] = ()) -> set[str]:
    """The reach columns a query needs: the named stages, and for each `followed` stage what
    `next_reach` reads (in cumulative mode the next stage, or every later one after the first
    stage; in strict mode every later one)."""
    out = {s for s in named if s in funnel.stages}
    for stage in followed:
        if stage in funnel.stages:
            k = funnel.index(stage)
            out.add(stage)
            out.update(funnel.stages[k + 1:k + 2] if mode is Mode.CUMULATIVE and k > 0
                       else funnel.stages[k + 1:])
    return out


def reach_times(scope: Scope, funnel: Funnel, mode: Mode,
                stages: Iterable[str] | None = None, *, leads: bool = True) -> ibis.Table:
    """Leads (all their columns) plus a `reach:STAGE` timestamp per stage, null if unreached.

    `stages` limits the columns computed (each is one filtered MIN in the aggregate). With
    `leads=False` (no dimension, no filter: only `created_at` and reach times are read) the
    join to the leads is skipped where it can be: in a batch (a shared table, see `_shared`),
    or when the first stage is not wanted and there is no as-of instant (then only the leads
    with a stage event come back).
    """
    wanted = set(funnel.stages if stages is None else stages)
    shared = _shared(scope, funnel, mode, wanted, leads)
    if shared is not None:
        return shared
    later = [s for s in funnel.stages[1:] if s in wanted]
    rows = base(scope, "leads")
    if later:
        firsts = _stage_minima(scope, funnel, mode, later)
        if not leads and funnel.first not in wanted and scope.as_of is None:
            return firsts.rename(lead_id="_lid")
        rows = rows.left_join(firsts, rows.lead_id == firsts._lid).drop("_lid")
    return rows.mutate(**{reach_column(funnel.first): rows.created_at})


def _shared(scope: Scope, funnel: Funnel, mode: Mode, wanted: set[str],
            leads: bool) -> ibis.Table | None:
    """A batch's shared reach times, materialised once (temporary tables) for the queries that
    read them — the costly part of most funnel metrics — or None where this query is to
    compute its own (outside a batch, or a table the batch's survey saw one query ask for:
    `Batch.holds`).

    `firsts` (queries with dimensions or filters, `leads`): per lead with a stage event
    (`_lid`), the reach time of the later stages the batch's queries read, joined to the leads
    by each query; `reach` (the others): the same without a key (a text key would double its
    cost), and with `created_at` for every lead when a query reads the first stage (or an as-of
    instant limits the leads), the first stage's reach time (not stored twice). Every query
    selects the same columns of it, so that equal queries build the very same rows (`prepare`).
    """
    state = scope.ws.batch_state
    if state is None:
        return None
    what = "firsts" if leads else "reach"
    key = (what, scope.as_of, funnel.name, tuple(funnel.stages), mode)
    needs = wanted - {funnel.first} if leads else wanted
    holds = state.holds(key, needs, funnel.stages if not leads else funnel.stages[1:])
    later = [s for s in funnel.stages[1:] if holds is not None and s in holds]
    if not later:  # nothing shared, or only the leads' own created_at: nothing worth a table
        return None
    columns = [reach_column(s) for s in later]
    if leads:
        firsts = state.materialised(key, lambda: _stage_minima(scope, funnel, mode, later))
        rows = base(scope, "leads")
        rows = rows.left_join(firsts.select("_lid", *columns),
                              rows.lead_id == firsts._lid).drop("_lid")
        return rows.mutate(**{reach_column(funnel.first): rows.created_at})
    with_leads = funnel.first in holds or scope.as_of is not None

    def build() -> ibis.Table:
        if not with_leads:
            return _stage_minima(scope, funnel, mode, later).drop("_lid")
        made = state.tables.get(("firsts", *key[1:]))
        if made is None or state.holds(("firsts", *key[1:]), later, ()) is None:
            made = _stage_minima(scope, funnel, mode, later)
        rows = base(scope, "leads").select("lead_id", "created_at")
        rows = rows.left_join(made.select("_lid", *columns), rows.lead_id == made._lid)
        return rows.drop("lead_id", "_lid")

    table = state.materialised(key, build)
    if not with_leads:
        return table.select(*columns)
    return table.select("created_at", *columns,
                        **{reach_column(funnel.first): table.created_at})


def _stage_minima(scope: Scope, funnel: Funnel, mode: Mode, later: list[str]) -> ibis.Table:
    """One pass over `stage_events`: a grouped aggregate with one filtered MIN per stage."""
    events = base(scope, "stage_events")
    lowest = min(funnel.index(s) for s in later)
    scan = funnel.stages[lowest:] if mode is Mode.CUMULATIVE else later
    events = events.filter(events.stage.isin(scan))

    def reach(stage: str) -> ibis.Value:
        counted = funnel.stages[funnel.index(stage):] if mode is Mode.CUMULATIVE else [stage]
        if set(counted) == set(scan):  # every scanned event counts: no filter to test per row
            return events.occurred_at.min()
        return events.occurred_at.min(where=events.stage.isin(counted))

    return events.group_by(_lid=events.lead_id).aggregate(
        **{reach_column(stage): reach(stage) for stage in later})


def next_reach(t: ibis.Table, funnel: Funnel, mode: Mode, stage: str) -> ibis.Value:
    """When the lead reached the next stage after `stage`: the earliest reach time of a later
    stage at or after its reach time of `stage` (null if none). A stage reached earlier does
    not count, so no time in stage is negative when events came out of order.

    In cumulative mode, reach times never decrease along the funnel after its first stage, so
    from any stage but the first that is simply the next stage's reach time; the first stage
    (the lead's created_at) may come after events logged before the lead was created.
    """
    k = funnel.index(stage)
    start = t[reach_column(stage)]
    later = [t[reach_column(s)] for s in funnel.stages[k + 1:] if reach_column(s) in t.columns]
    if not later:
        return ibis.null("timestamp")
    if mode is Mode.CUMULATIVE and k > 0:
        return later[0]
    after = [ibis.ifelse(r >= start, r, ibis.null("timestamp")) for r in later]
    if mode is Mode.CUMULATIVE:  # non-decreasing: the first one at or after is the earliest
        return after[0] if len(after) == 1 else ibis.coalesce(*after)
    earliest = after[0]
    for r in after[1:]:
        earliest = ibis.ifelse(r.notnull() & (earliest.isnull() | (r < earliest)), r, earliest)
    return earliest


def reach_rows(ctx: Context) -> ibis.Table:
    """The `reach` entity for a query: its reach columns, dimensions and filters."""
    assert ctx.funnel is not None
    stages = ctx.reach_stages
    t = reach_times(ctx.scope, ctx.funnel, ctx.mode, stages, leads=bool(ctx.by or ctx.where))
    t = with_dimensions(ctx.scope, "leads", t, [*ctx.by, *ctx.where])
    return apply_where(t, ctx.where)


def _span(ctx: Any, time: str | None) -> tuple[tuple[str, str], ...]:
    """A cohort by entry into the first stage spans the leads' own instants; any other stage
    the stage events' too."""
    if ctx.funnel is not None and time == reach_column(ctx.funnel.first):
        return (("leads", "created_at"),)
    return (("leads", "created_at"), ("stage_events", "occurred_at"))


declare(Entity("reach", table="leads", key=("lead_id",), dimensions_of="leads",
               from_query=reach_rows, span_of=_span,
               description="Leads with when they reached each stage of the query's funnel."))
