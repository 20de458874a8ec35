"""Reach times: when each lead reached each stage of a funnel (SPEC §2, "Funnels are configured").

Cumulative mode (default): a lead has reached stage k at its earliest event of stage k or of any
later stage of the funnel. Strict mode: only an event of stage k itself counts. In both modes every
lead has reached the first stage at its `created_at`. One pass over `stage_events` (a grouped
aggregate with one filtered MIN per stage), joined to the leads.
"""

from __future__ import annotations

from collections.abc import Iterable

import ibis

from funnelmetrics.compile.entities import Scope, base
from funnelmetrics.config import Funnel, Mode
from funnelmetrics.workspace import RELEASE


def reach_column(stage: str) -> str:
    return f"reach:{stage}"


def needed_stages(funnel: Funnel, mode: Mode, named: Iterable[str],
                  followed: Iterable[str] = ()) -> set[str]:
    """The reach columns a query needs: the named stages, and for each `followed` stage what
    `next_reach` reads (the next stage; in strict mode every later one)."""
    out = {s for s in named if s in funnel.stages}
    for stage in followed:
        if stage in funnel.stages:
            k = funnel.index(stage)
            out.add(stage)
            out.update(funnel.stages[k + 1:k + 2] if mode is Mode.CUMULATIVE
                       else funnel.stages[k + 1:])
    return out


def reach_times(scope: Scope, funnel: Funnel, mode: Mode,
                stages: Iterable[str] | None = None, *, leads: bool = True) -> ibis.Table:
    """Leads (all their columns) plus a `reach:STAGE` timestamp per stage, null if unreached.

    `stages` limits the columns computed (each is one filtered MIN in the aggregate). With
    `leads=False` (nothing of the leads is read: no dimension, no filter) and neither the first
    stage nor an as-of instant involved, only `lead_id` and the reach columns of the leads with
    a stage event come back: the join to the leads is skipped.
    """
    wanted = set(funnel.stages if stages is None else stages)
    later = [s for s in funnel.stages[1:] if s in wanted]
    rows = base(scope, "leads")
    if later:
        firsts = _firsts(scope, funnel, mode, later)
        if not leads and funnel.first not in wanted and scope.as_of is None:
            return firsts.rename(lead_id="_lid")
        rows = rows.left_join(firsts, rows.lead_id == firsts._lid).drop("_lid")
    return rows.mutate(**{reach_column(funnel.first): rows.created_at})


def _firsts(scope: Scope, funnel: Funnel, mode: Mode, later: list[str]) -> ibis.Table:
    """Per lead with events (`_lid`): the reach time of each stage of `later`.

    In a batch on DuckDB, the reach times of every stage are materialised once (a temporary
    table) and shared by the batch's queries: they are the costly part of most funnel metrics.
    """
    memo = scope.ws.memo
    if memo is None or not scope.ws.is_duckdb:
        return _stage_minima(scope, funnel, mode, later)
    key = ("reach", scope.as_of, funnel.name, tuple(funnel.stages), mode)
    if key not in memo:
        cached = _stage_minima(scope, funnel, mode, list(funnel.stages[1:])).cache()
        memo.setdefault(RELEASE, []).append(cached)
        memo[key] = cached
    return memo[key].select("_lid", *(reach_column(s) for s in later))


def _stage_minima(scope: Scope, funnel: Funnel, mode: Mode, later: list[str]) -> ibis.Table:
    """One pass over `stage_events`: a grouped aggregate with one filtered MIN per stage."""
    events = base(scope, "stage_events")
    lowest = min(funnel.index(s) for s in later)
    scan = funnel.stages[lowest:] if mode is Mode.CUMULATIVE else later
    events = events.filter(events.stage.isin(scan))
    return events.group_by(_lid=events.lead_id).aggregate(**{
        reach_column(stage): events.occurred_at.min(where=events.stage.isin(
            funnel.stages[funnel.index(stage):] if mode is Mode.CUMULATIVE else [stage]))
        for stage in later
    })


def next_reach(t: ibis.Table, funnel: Funnel, stage: str) -> ibis.Value:
    """The time the lead reached the next stage it reached after `stage` (null if none).

    In cumulative mode that is the next stage's reach time (reach times never decrease along
    the funnel); in strict mode the first later stage with an event of its own.
    """
    k = funnel.index(stage)
    later = [t[reach_column(s)] for s in funnel.stages[k + 1:] if reach_column(s) in t.columns]
    if not later:
        return ibis.null("timestamp")
    return later[0] if len(later) == 1 else ibis.coalesce(*later)
