"""What the pipeline forecast learns from, read from the workspace as it stood at an instant:
every deal as counts per (segment, stage, outcome, whole days from the stage's start to its
close or, still open, to the instant), and the open deals themselves (the forecast's grain,
only the columns it needs).

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


def size_cuts(ws: Workspace, as_of: dt.datetime) -> tuple[float, float] | None:
    """The amounts that split the deals created before the instant into thirds (None without
    amounts): the default segment is the deal's size band."""
    deals = _deals(ws, as_of)
    row = deals.aggregate(low=deals.amount.quantile(1 / 3), high=deals.amount.quantile(2 / 3)
                          ).to_pyarrow().to_pylist()[0]
    if row["low"] is None or row["high"] is None:
        return None
    return float(row["low"]), float(row["high"])


def _segment(deals: ibis.Table, by: str | None,
             cuts: tuple[float, float] | None = None) -> ibis.Value:
    """The deal's segment: the `by` column, else its size band (thirds of the amounts: small,
    mid, large; unknown without an amount)."""
    import ibis

    if by is None:
        if cuts is None:
            return ibis.literal("")
        a = deals.amount
        band = ibis.cases((a.isnull(), "unknown"), (a < cuts[0], "small"),
                          (a < cuts[1], "mid"), else_="large")
        return band
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


def durations(ws: Workspace, as_of: dt.datetime, by: str | None = None,
              cuts: tuple[float, float] | None = None) -> list[dict[str, Any]]:
    """Every deal created before the instant, counted per (segment, stage, outcome, spell,
    days): for each stage it reached before the instant (and stage `*`, from creation), `days`
    whole days from reaching it to its close (outcome won or lost) or, still open, to the
    instant (outcome open: censored), and `spell` whole days it stayed at that stage (until
    the next stage it reached, its close or the instant; for `*` the same as `days`)."""
    import ibis

    deals = _deals(ws, as_of)
    deals = deals.select(opportunity_id=deals.opportunity_id,
                         segment=_segment(deals, by, cuts), outcome=deals.status, created_at=deals.created_at,
                         end=ibis.coalesce(deals.closed_at, ibis.literal(as_of)))
    parts = [deals.mutate(stage=ibis.literal(ALL_STAGES), start=deals.created_at,
                          left=deals["end"])]
    stages = _stage_starts(ws, as_of)
    if stages is not None:
        j = deals.join(stages, "opportunity_id")
        j = j.filter(j.reached < j["end"])  # an event at the close marks the close itself
        following = j.reached.lead().over(group_by=j.opportunity_id, order_by=j.reached)
        j = j.mutate(stage=j.deal_stage, start=j.reached,
                     left=ibis.least(ibis.coalesce(following, j["end"]), j["end"]))
        parts.append(j.select(*deals.columns, "stage", "start", "left"))
    rows = ibis.union(*[p.select("segment", "stage", "outcome", "start", "end", "left")
                        for p in parts])
    start = rows.start.epoch_seconds()
    rows = rows.mutate(days=((rows["end"].epoch_seconds() - start) // SECONDS_PER_DAY)
                       .cast("int64"),
                       spell=((rows["left"].epoch_seconds() - start) // SECONDS_PER_DAY)
                       .cast("int64"))
    keys = ["segment", "stage", "outcome", "spell", "days"]
    out = rows.group_by(keys).aggregate(deals=rows.count())
    return out.order_by(keys).to_pyarrow().to_pylist()


def open_deals(ws: Workspace, as_of: dt.datetime, by: str | None = None,
               cuts: tuple[float, float] | None = None) -> list[dict[str, Any]]:
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
                         created_at=open_.created_at, segment=_segment(open_, by, cuts))
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


def created_counts(ws: Workspace, as_of: dt.datetime,
                   spans: list[tuple[dt.datetime, dt.datetime]]) -> list[int]:
    """Deals created in each [start, end) span, as known at the instant (one query)."""
    deals = _deals(ws, as_of)
    aggs = {f"s{k}": ((deals.created_at >= a) & (deals.created_at < b)).ifelse(1, 0)
            .cast("int64").sum()
            for k, (a, b) in enumerate(spans)}
    row = deals.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    return [int(row[f"s{k}"] or 0) for k in range(len(spans))]


def new_deal_bookings(ws: Workspace, as_of: dt.datetime, origins: list[dt.datetime],
                      ends: list[list[dt.datetime]]) -> list[list[float]]:
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
