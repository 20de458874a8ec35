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
                stages: Iterable[str] | None = None) -> ibis.Table:
    """Leads (all their columns) plus a `reach:STAGE` timestamp per stage, null if unreached.

    `stages` limits the columns computed (each is one filtered MIN in the aggregate).
    """
    wanted = set(funnel.stages if stages is None else stages)
    leads = base(scope, "leads")
    later = [s for s in funnel.stages[1:] if s in wanted]
    if later:
        events = base(scope, "stage_events")
        lowest = min(funnel.index(s) for s in later)
        scan = funnel.stages[lowest:] if mode is Mode.CUMULATIVE else later
        events = events.filter(events.stage.isin(scan))
        firsts = events.group_by(_lid=events.lead_id).aggregate(**{
            reach_column(stage): events.occurred_at.min(where=events.stage.isin(
                funnel.stages[funnel.index(stage):] if mode is Mode.CUMULATIVE else [stage]))
            for stage in later
        })
        leads = leads.left_join(firsts, leads.lead_id == firsts._lid).drop("_lid")
    return leads.mutate(**{reach_column(funnel.first): leads.created_at})


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
