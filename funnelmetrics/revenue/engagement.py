"""Engagement score per account and period (SPEC §3 engagement_score).

An account's weighted events in the period (sum of `weight`, default 1) are scaled 0–100 by
cumulative distribution across the accounts of that period: score = 100 × cume_dist (the share of
accounts whose weighted events are ≤ the account's). The accounts of a period are those with an
event in it and those paying (MRR > 0) at its end; an account with no weighted events scores 0.
Scores are ranked across all accounts before any filter or split, so a segment's mean score
compares it with everyone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from funnelmetrics.revenue.accounts import with_account_dimensions
from funnelmetrics.revenue.mrr import active_at, paid_subscriptions, period_spine
from funnelmetrics.semantic.model import Entity
from funnelmetrics.semantic.registry import base, declare

if TYPE_CHECKING:
    from funnelmetrics.compile.context import Context


def _weighted(ctx: Context, spine: ibis.Table) -> ibis.Table:
    events = base(ctx.scope, "engagement_events")
    events = events.filter(ctx.window.contains(events.occurred_at))
    events = events.mutate(_p=ctx.window.period_of(events.occurred_at),
                           _w=events.weight.cast("float64").fill_null(1.0))
    per = events.group_by(_wp=events._p, _wacc=events.account_id).aggregate(
        weighted=events._w.sum())
    return per.join(spine, per._wp == spine.period_start)


def _paying(ctx: Context, spine: ibis.Table) -> ibis.Table:
    subs = paid_subscriptions(ctx.scope)
    j = spine.join(subs, [active_at(ctx, subs, spine.next_start)])
    return j.select(_period=j.period_start, _next=j.next_start, account_id=j.account_id)


def engagement_rows(ctx: Context) -> ibis.Table:
    """The `account_engagement` entity: (period, account) → weighted events and score 0–100."""
    spine = period_spine(ctx.window)
    weighted = _weighted(ctx, spine)
    universe = weighted.select(_period=weighted.period_start, _next=weighted.next_start,
                               account_id=weighted._wacc).union(_paying(ctx, spine)).distinct()
    j = universe.left_join(weighted, [universe._period == weighted._wp,
                                      universe.account_id == weighted._wacc])
    j = j.select("_period", "_next", "account_id", weighted=j.weighted.fill_null(0.0))
    rank = ibis.cume_dist().over(ibis.window(group_by=j._period, order_by=j.weighted))
    rows = j.mutate(score=ibis.ifelse(j.weighted > 0, rank * 100.0, 0.0))
    return with_account_dimensions(ctx, rows, "engagement scores")


declare(Entity("account_engagement", table="engagement_events", from_query=engagement_rows,
               span=(("engagement_events", "occurred_at"),),
               description="Per period and account: weighted engagement events and score."))
