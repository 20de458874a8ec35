"""Reach times: when each lead reached each stage of a funnel (SPEC §2, "Funnels are configured").

Cumulative mode (default): a lead has reached stage k at its earliest event of stage k or of any
later stage of the funnel. Strict mode: only an event of stage k itself counts. In both modes every
lead has reached the first stage at its `created_at`. One pass over `stage_events` (a grouped
aggregate with one filtered MIN per stage), joined to the leads.
"""

from __future__ import annotations

import ibis

from funnelmetrics.compile.entities import Scope, base
from funnelmetrics.config import Funnel, Mode


def reach_column(stage: str) -> str:
    return f"reach:{stage}"


def reach_times(scope: Scope, funnel: Funnel, mode: Mode) -> ibis.Table:
    """Leads (all their columns) plus one `reach:STAGE` timestamp per stage, null if unreached."""
    leads = base(scope, "leads")
    events = base(scope, "stage_events")
    later = funnel.stages[1:]
    events = events.filter(events.stage.isin(later))
    index = ibis.cases(*[(events.stage == s, i) for i, s in enumerate(funnel.stages)])
    events = events.mutate(_idx=index)
    firsts = events.group_by(_lid=events.lead_id).aggregate(**{
        reach_column(stage): events.occurred_at.min(
            where=(events._idx >= k) if mode is Mode.CUMULATIVE else (events._idx == k))
        for k, stage in enumerate(funnel.stages) if k > 0
    })
    joined = leads.left_join(firsts, leads.lead_id == firsts._lid).drop("_lid")
    return joined.mutate(**{reach_column(funnel.first): joined.created_at})


def next_reach(t: ibis.Table, funnel: Funnel, stage: str) -> ibis.Value:
    """The time the lead reached the next stage it reached after `stage` (null if none)."""
    k = funnel.index(stage)
    later = [t[reach_column(s)] for s in funnel.stages[k + 1:]]
    if not later:
        return ibis.null("timestamp")
    return later[0] if len(later) == 1 else ibis.coalesce(*later)
