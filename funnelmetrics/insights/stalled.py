"""Stalled deals (SPEC §4, issue 15 §4): open opportunities with no deal-stage change for longer
than the 90th percentile of the time deals spent in their current deal stage.

The percentile is learned from the workspace's own history: every completed stay in a deal
stage (a `deal_stage_events` row and the same deal's next one), p90 of its length in days per
stage (the catalogue's p90: `quantile(0.9)`), seen as of the instant. A deal's current stage and
its last change are its latest deal-stage event (no event: its `deal_stage`, since created_at).
A stage with fewer than `min_history` completed stays has no reliable p90: its deals are not
judged. The value at stake (impact) is the deal's amount. Computed in the database; only the
stalled deals come back.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from funnelmetrics.insights.findings import Finding

if TYPE_CHECKING:
    import ibis

    from funnelmetrics.workspace import Workspace

DAY_SECONDS = 86_400


def _instant(ws: Workspace, as_of: Any) -> dt.datetime:
    from funnelmetrics.compile.time import parse_instant

    moment = parse_instant(as_of, ws.config.timezone) if as_of is not None else None
    return moment or dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _days(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    return (later.epoch_seconds() - earlier.epoch_seconds()) / DAY_SECONDS


def stage_p90(ws: Workspace, *, as_of: Any = None, min_history: int = 10) -> ibis.Table:
    """Per deal stage: completed stays, their p90 in days (stages with enough history)."""
    import ibis

    from funnelmetrics import catalog
    from funnelmetrics.semantic import registry
    from funnelmetrics.semantic.model import Scope

    catalog.load()
    ev = registry.base(Scope(ws, as_of=_instant(ws, as_of)), "deal_stage_events")
    w = ibis.window(group_by=ev.opportunity_id, order_by=[ev.occurred_at, ev.deal_stage])
    stays = ev.mutate(next_at=ev.occurred_at.lead().over(w))
    stays = stays.filter(stays.next_at.notnull()).mutate(
        days=_days(stays.next_at, stays.occurred_at))
    return stays.group_by("deal_stage").aggregate(
        stays=stays.count(), p90_days=stays.days.quantile(0.9)).filter(
        lambda t: t.stays >= min_history)


def stalled_deals(ws: Workspace, *, as_of: Any = None, min_history: int = 10,
                  limit: int = 50, where: dict[str, Any] | None = None) -> list[Finding]:
    """Open deals past their stage's p90, largest amount first; `where` filters the deals by
    their own columns (a rep's scope: rep_id), the history stays everyone's."""
    import ibis

    from funnelmetrics.semantic import registry
    from funnelmetrics.semantic.model import Scope

    now = _instant(ws, as_of)
    scope = Scope(ws, as_of=now)
    opps = registry.base(scope, "opportunities")
    opps = opps.filter(opps.status == "open")
    for key, wanted in (where or {}).items():
        if key not in opps.columns:
            from funnelmetrics.errors import QueryError

            raise QueryError(f"stalled deals cannot be filtered by {key!r}")
        values = wanted if isinstance(wanted, list | tuple) else [wanted]
        opps = opps.filter(opps[key].cast("string").isin([str(v) for v in values]))
    ev = registry.base(scope, "deal_stage_events")
    w = ibis.window(group_by=ev.opportunity_id, order_by=[ev.occurred_at.desc(),
                                                          ev.deal_stage.desc()])
    latest = ev.mutate(rn=ibis.row_number().over(w))
    latest = latest.filter(latest.rn == 0).select(
        oid=latest.opportunity_id, ev_stage=latest.deal_stage, changed_at=latest.occurred_at)
    j = opps.left_join(latest, opps.opportunity_id == latest.oid)
    j = j.mutate(current=ibis.coalesce(j.ev_stage, j.deal_stage),
                 since=ibis.coalesce(j.changed_at, j.created_at))
    p90 = stage_p90(ws, as_of=as_of, min_history=min_history)
    k = j.inner_join(p90, j.current == p90.deal_stage)
    k = k.mutate(days=_days(ibis.literal(now), k.since))
    k = k.filter(k.days > k.p90_days).order_by([ibis.desc(k.amount), k.opportunity_id]) \
        .limit(limit)
    df = k.select("opportunity_id", "current", "since", "days", "p90_days", "stays",
                  "amount", "rep_id", "account_id").execute()
    out = []
    for row in df.itertuples(index=False):
        amount = None if row.amount != row.amount else float(row.amount)
        out.append(Finding(
            kind="stalled_deal", metric="time_in_deal_stage", current=float(row.days),
            baseline=float(row.p90_days), impact=amount, dimension="opportunity_id",
            dimension_value=str(row.opportunity_id),
            details={"deal_stage": row.current, "since": str(row.since),
                     "history_stays": int(row.stays), "amount": amount,
                     "rep_id": None if row.rep_id is None else str(row.rep_id),
                     "account_id": None if row.account_id is None else str(row.account_id)},
            rows={"table": "opportunities", "where": {"opportunity_id": row.opportunity_id}}))
    return out
