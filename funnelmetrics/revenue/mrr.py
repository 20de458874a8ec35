"""Per-account MRR at period ends and its movements (SPEC §3 mrr … net_new_mrr).

A subscription is active at a period's end when started_at < next and (ended_at is null or
ended_at ≥ next), `next` being the next period's first instant. For every period of the query
and every account with paid MRR around it, one row holds the account's MRR
at the previous period's end (`mrr_start`) and at this period's end (`mrr_end`), and the movement:

- 0 → x: `new`, or `reactivation` when the account had MRR at an earlier period's end — looked up
  over the account's whole history (its first period end with MRR, `first_paid`), not only the
  query's range;
- x → 0: `churn` (and `churned` = 1); x → y: `expansion` (y > x) or `contraction` (y < x).

Everything is one Ibis expression: a period spine joined to the subscriptions, grouped per
(period, account); the history lookup is one grouped aggregate per account.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.compile.time import Grain, Window, local_to_utc, period_of

if TYPE_CHECKING:
    from funnelmetrics.compile.compiler import Context
    from funnelmetrics.compile.entities import Scope

MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")
DIGITS = 6  # MRR sums are rounded before comparing, so float noise is not a movement


def active_at(ctx: object, t: ibis.Table, next_start: ibis.Value) -> ibis.Value:
    """Active at a period's end (SPEC §3): started before `next`, not ended before it."""
    return (t.started_at < next_start) & (t.ended_at.isnull() | (t.ended_at >= next_start))


def paid_subscriptions(scope: Scope) -> ibis.Table:
    """Subscriptions as of the scope's instant, in the reporting currency, with mrr > 0."""
    from funnelmetrics.compile.entities import base

    subs = base(scope, "subscriptions")
    return subs.filter(subs.mrr > 0)


def period_spine(window: Window) -> ibis.Table:
    """The window's periods: period_start, start_at (= the previous period's end) and
    next_start, as UTC instants."""

    def instant(day: dt.date) -> dt.datetime:
        return local_to_utc(dt.datetime.combine(day, dt.time()), window.tz)

    starts = window.periods
    return ibis.memtable(
        {"period_start": starts, "start_at": [instant(p) for p in starts],
         "next_start": [instant(window.next_start(p)) for p in starts]},
        schema={"period_start": "date", "start_at": "timestamp", "next_start": "timestamp"})


def first_paid_periods(scope: Scope, window: Window) -> ibis.Table:
    """Per account, the first period at whose end it had MRR, over its whole history (for the
    single-period grain `all`, the first day)."""
    grain = Grain.DAY if window.grain is Grain.ALL else window.grain
    subs = paid_subscriptions(scope)
    started = period_of(subs.started_at, grain, window.tz)
    spans_an_end = subs.ended_at.isnull() | (period_of(subs.ended_at, grain, window.tz) > started)
    subs = subs.mutate(_p=started).filter(spans_an_end)
    return subs.group_by(_fp_acc=subs.account_id).aggregate(first_paid=subs._p.min())


def mrr_at_ends(scope: Scope, window: Window) -> ibis.Table:
    """Per (period, account): MRR at the previous period's end and at this period's end."""
    subs = paid_subscriptions(scope)
    spine = period_spine(window)
    j = spine.join(subs, [subs.started_at < spine.next_start,
                          subs.ended_at.isnull() | (subs.ended_at >= spine.start_at)])
    at_start = active_at(None, j, j.start_at)
    at_end = active_at(None, j, j.next_start)
    per = j.group_by(_period=j.period_start, _next=j.next_start, account_id=j.account_id) \
        .aggregate(mrr_start=j.mrr.sum(where=at_start), mrr_end=j.mrr.sum(where=at_end))
    return per.mutate(mrr_start=per.mrr_start.fill_null(0).round(DIGITS),
                      mrr_end=per.mrr_end.fill_null(0).round(DIGITS))


def with_movements(per: ibis.Table, first_paid: ibis.Table) -> ibis.Table:
    """Classify each (period, account) change of MRR (see module doc)."""
    j = per.left_join(first_paid, per.account_id == first_paid._fp_acc)
    s, e = j.mrr_start, j.mrr_end
    zero = ibis.literal(0.0)
    starts = (s == 0) & (e > 0)
    again = starts & j.first_paid.notnull() & (j.first_paid < j._period)
    return j.mutate(
        new=ibis.ifelse(starts & ~again, e, zero),
        reactivation=ibis.ifelse(again, e, zero),
        expansion=ibis.ifelse((s > 0) & (e > s), e - s, zero),
        contraction=ibis.ifelse((s > 0) & (e > 0) & (e < s), s - e, zero),
        churn=ibis.ifelse((s > 0) & (e == 0), s, zero),
        churned=ibis.ifelse((s > 0) & (e == 0), 1, 0),
        active_start=ibis.ifelse(s > 0, 1, 0),
        active_end=ibis.ifelse(e > 0, 1, 0),
    ).drop("_fp_acc")


def account_mrr_rows(ctx: Context) -> ibis.Table:
    """The `account_mrr` entity: movements per (period, account), with the query's dimensions."""
    from funnelmetrics.revenue.accounts import with_account_dimensions

    rows = with_movements(mrr_at_ends(ctx.scope, ctx.window),
                          first_paid_periods(ctx.scope, ctx.window))
    return with_account_dimensions(ctx, rows, "MRR movements")


def same_period(ctx: object, t: ibis.Table, next_start: ibis.Value) -> ibis.Value:
    """SNAPSHOT predicate for per-period rows: the row belongs to the spine's period."""
    return t._next == next_start
