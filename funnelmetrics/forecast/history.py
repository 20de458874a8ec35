"""What the pipeline forecast learns from, read from the workspace as it stood at an instant:
closed deals as counts per (segment, stage, won, whole days from the stage's start to the close),
and the open deals themselves (the forecast's grain, only the columns it needs).

A deal's "clock" at a stage starts when it first reached that stage (`deal_stage_events`, the
first event of each stage before the instant); stage `*` is the deal as a whole, its clock
starting at created_at. Stages whose events mark the close itself (the stage of a deal's last
event when that event is at its closed_at, such as a `closed` stage) are left out.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from funnelmetrics.errors import QueryError

if TYPE_CHECKING:
    import ibis

    from funnelmetrics.workspace import Workspace

ALL_STAGES = "*"
SECONDS_PER_DAY = 86_400


def _deals(ws: Workspace, as_of: dt.datetime) -> ibis.Table:
    from funnelmetrics.semantic.model import Scope
    from funnelmetrics.semantic.registry import base

    return base(Scope(ws, as_of), "opportunities")


def _segment(deals: ibis.Table, by: str | None) -> ibis.Value:
    import ibis

    if by is None:
        return ibis.literal("")
    if by not in deals.columns:
        raise QueryError(f"--by {by!r}: not a column of opportunities "
                         f"(one of {', '.join(sorted(deals.columns))})")
    return deals[by].cast("string").fill_null("(none)")


def _stage_starts(ws: Workspace, as_of: dt.datetime) -> ibis.Table | None:
    """First instant each deal reached each stage, before the instant (None without events)."""
    if not ws.has_table("deal_stage_events"):
        return None
    ev = ws.table("deal_stage_events")
    ev = ev.filter(ev.occurred_at < as_of)
    return ev.group_by(["opportunity_id", "deal_stage"]).aggregate(reached=ev.occurred_at.min())


def closed_counts(ws: Workspace, as_of: dt.datetime, by: str | None = None) -> list[dict[str, Any]]:
    """Closed deals before the instant, counted per (segment, stage, won, days): `days` whole
    days from reaching the stage (or creation, stage `*`) to the close; the amounts of the won
    ones summed (for the average deal size of deals whose amount is unknown)."""
    import ibis

    deals = _deals(ws, as_of)
    closed = deals.filter(deals.status.isin(["won", "lost"]))
    closed = closed.select(opportunity_id=closed.opportunity_id, segment=_segment(closed, by),
                           won=(closed.status == "won").cast("int8"), closed_at=closed.closed_at,
                           created_at=closed.created_at)
    whole = closed.mutate(stage=ibis.literal(ALL_STAGES), start=closed.created_at)
    parts = [whole]
    stages = _stage_starts(ws, as_of)
    if stages is not None:
        j = closed.join(stages, "opportunity_id")
        j = j.filter(j.reached < j.closed_at)  # an event at the close marks the close itself
        parts.append(j.select(*closed.columns, stage=j.deal_stage, start=j.reached))
    rows = ibis.union(*[p.select("segment", "stage", "won", "start", "closed_at") for p in parts])
    days = ((rows.closed_at.epoch_seconds() - rows.start.epoch_seconds()) // SECONDS_PER_DAY)
    rows = rows.mutate(days=days.cast("int64"))
    out = rows.group_by(["segment", "stage", "won", "days"]).aggregate(deals=rows.count())
    return out.order_by(["segment", "stage", "won", "days"]).to_pyarrow().to_pylist()


def open_deals(ws: Workspace, as_of: dt.datetime, by: str | None = None) -> list[dict[str, Any]]:
    """The deals open at the instant: id, amount (reporting currency), the CRM's probability,
    created_at, segment, the stage they are in (their latest stage reached before the instant,
    `*` when unknown) and when they reached it."""
    import ibis

    deals = _deals(ws, as_of)
    open_ = deals.filter(deals.status == "open")
    probability = (open_.probability if "probability" in open_.columns
                   else ibis.null("float64"))
    open_ = open_.select(opportunity_id=open_.opportunity_id, amount=open_.amount,
                         crm_probability=probability.cast("float64"),
                         created_at=open_.created_at, segment=_segment(open_, by))
    stages = _stage_starts(ws, as_of)
    if stages is None:
        out = open_.mutate(stage=ibis.literal(ALL_STAGES), start=open_.created_at)
    else:
        latest = stages.mutate(rank=ibis.row_number().over(
            group_by=stages.opportunity_id, order_by=ibis.desc(stages.reached)))
        latest = latest.filter(latest["rank"] == 0).select(
            _oid=latest.opportunity_id, _stage=latest.deal_stage, _reached=latest.reached)
        j = open_.left_join(latest, open_.opportunity_id == latest._oid)
        out = j.select(*open_.columns, stage=j._stage.fill_null(ALL_STAGES),
                       start=ibis.coalesce(j._reached, j.created_at))
    return out.order_by("opportunity_id").to_pyarrow().to_pylist()


def new_deal_bookings(ws: Workspace, as_of: dt.datetime, origins: list[dt.datetime],
                      ends: list[dt.datetime]) -> list[list[float]]:
    """For each past origin instant o_i and each period end e_ij after it (all before the
    instant): won amount closed in [previous end, e_ij) by deals created at or after o_i —
    bookings from pipeline that did not exist at the origin. Returns [[amount per period]]."""
    import ibis

    deals = _deals(ws, as_of)
    won = deals.filter(deals.status == "won").select("created_at", "closed_at", "amount")
    out = []
    for origin, period_ends in zip(origins, ends, strict=True):
        row, start = [], origin
        aggs = {}
        for k, end in enumerate(period_ends):
            inside = (won.created_at >= origin) & (won.closed_at >= start) & (won.closed_at < end)
            aggs[f"p{k}"] = ibis.ifelse(inside, won.amount.fill_null(0.0), 0.0).sum()
            start = end
        result = won.aggregate(**aggs).to_pyarrow().to_pylist()[0] if aggs else {}
        row = [float(result[f"p{k}"] or 0.0) for k in range(len(period_ends))]
        out.append(row)
    return out
