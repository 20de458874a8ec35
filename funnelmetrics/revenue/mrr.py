"""Per-account MRR at period ends and its movements (SPEC §3 mrr … net_new_mrr).

A subscription is active at a period's end when started_at < next and (ended_at is null or
ended_at ≥ next), `next` being the next period's first instant. An account's MRR can only change
in a period in which one of its paid subscriptions starts or ends, so the `account_mrr` entity has
one row per such (period, account) — plus, in the query's first period, one for every account
paying at its start, the base the running totals start from. Each row holds the account's MRR at
the previous period's end (`mrr_start`) and at this period's end (`mrr_end`), and the movement:

- 0 → x: `new`, or `reactivation` when the account had MRR at an earlier period's end — looked up
  over the account's whole history (its first period end with MRR, `first_paid`), not only the
  query's range; `started` = 1 for either;
- x → 0: `churn` (and `churned` = 1); x → y: `expansion` (y > x) or `contraction` (y < x);
- `base_mrr`, `base_active`: the MRR and the paying account (1) at the start of the first period.

Totals over all accounts follow (catalog/revenue.py): MRR at a period's end is the base plus the
net movements of every period up to it, at its start that minus this period's net movement;
accounts likewise (base + started − churned). Everything is one Ibis expression: the periods of
the starts and ends joined to the account's subscriptions, grouped per (period, account).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.compile.time import Grain, Window, local_to_utc, period_of
from funnelmetrics.revenue.accounts import with_account_dimensions
from funnelmetrics.semantic.model import Entity, Scope
from funnelmetrics.semantic.registry import base, declare

if TYPE_CHECKING:
    from funnelmetrics.compile.context import Context

MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")
DIGITS = 6  # MRR sums are rounded before comparing, so float noise is not a movement


def active_at(ctx: object, t: ibis.Table, next_start: ibis.Value) -> ibis.Value:
    """Active at a period's end (SPEC §3): started before `next`, not ended before it."""
    return (t.started_at < next_start) & (t.ended_at.isnull() | (t.ended_at >= next_start))


def paid_subscriptions(scope: Scope) -> ibis.Table:
    """Subscriptions as of the scope's instant, in the reporting currency, with mrr > 0."""
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


def _paid_from(subs: ibis.Table, window: Window) -> ibis.Value:
    """The period at whose end a subscription first had MRR: its start's, when it lasts past that
    period's end (for the single-period grain `all`, its start day); else null."""
    grain = Grain.DAY if window.grain is Grain.ALL else window.grain
    started = period_of(subs.started_at, grain, window.tz)
    spans_an_end = subs.ended_at.isnull() | (period_of(subs.ended_at, grain, window.tz) > started)
    return ibis.ifelse(spans_an_end, started, ibis.null("date"))


def _period_of_event(ts: ibis.Value, window: Window) -> ibis.Value:
    """The query period an instant falls in (outside the range: another date, or null)."""
    if window.grain is Grain.ALL:
        return ibis.ifelse(window.contains(ts), ibis.literal(window.periods[0], "date"),
                           ibis.null("date"))
    return period_of(ts, window.grain, window.tz)


def changed_accounts(subs: ibis.Table, window: Window) -> ibis.Table:
    """(`_period`, `account_id`): the periods in which an account's paid subscriptions start or
    end, and the first period for every account paying at its start."""
    first = window.periods[0]
    t0 = local_to_utc(dt.datetime.combine(first, dt.time()), window.tz)
    starts = subs.select("account_id", _period=_period_of_event(subs.started_at, window))
    ended = subs.filter(subs.ended_at.notnull())
    ends = ended.select("account_id", _period=_period_of_event(ended.ended_at, window))
    paying = subs.filter(active_at(None, subs, ibis.literal(t0, "timestamp")))
    base = paying.select("account_id", _period=ibis.literal(first, "date"))
    return ibis.union(starts, ends, base).distinct()


def mrr_at_ends(scope: Scope, window: Window) -> ibis.Table:
    """Per changed (period, account): MRR at the previous period's end and at this period's end,
    and the account's `first_paid` period."""
    subs = paid_subscriptions(scope)
    spine = period_spine(window)
    pairs = changed_accounts(subs, window)
    # A left join, so that DuckDB keeps this join order: the few changed pairs get their period's
    # bounds first (out-of-range pairs get none and meet no subscription below).
    pairs = pairs.left_join(spine, pairs._period == spine.period_start)
    history = subs.select(_acc=subs.account_id, started_at=subs.started_at,
                          ended_at=subs.ended_at, mrr=subs.mrr, _paid=_paid_from(subs, window))
    j = pairs.join(history, [pairs.account_id == history._acc,
                             history.started_at < pairs.next_start])
    at_start = active_at(None, j, j.start_at)
    at_end = active_at(None, j, j.next_start)
    per = j.group_by(_period=j.period_start, _next=j.next_start, account_id=j.account_id) \
        .aggregate(mrr_start=j.mrr.sum(where=at_start), mrr_end=j.mrr.sum(where=at_end),
                   first_paid=j._paid.min())
    return per.mutate(mrr_start=per.mrr_start.fill_null(0).round(DIGITS),
                      mrr_end=per.mrr_end.fill_null(0).round(DIGITS))


def with_movements(per: ibis.Table, window: Window) -> ibis.Table:
    """Classify each (period, account) change of MRR (see module doc)."""
    s, e = per.mrr_start, per.mrr_end
    zero = ibis.literal(0.0)
    starts = (s == 0) & (e > 0)
    again = starts & per.first_paid.notnull() & (per.first_paid < per._period)
    first = per._period == ibis.literal(window.periods[0], "date")
    return per.mutate(
        new=ibis.ifelse(starts & ~again, e, zero),
        reactivation=ibis.ifelse(again, e, zero),
        expansion=ibis.ifelse((s > 0) & (e > s), e - s, zero),
        contraction=ibis.ifelse((s > 0) & (e > 0) & (e < s), s - e, zero),
        churn=ibis.ifelse((s > 0) & (e == 0), s, zero),
        churned=ibis.ifelse((s > 0) & (e == 0), 1, 0),
        started=ibis.ifelse(starts, 1, 0),
        base_mrr=ibis.ifelse(first, s, zero),
        base_active=ibis.ifelse(first & (s > 0), 1, 0),
    )


def movement_rows(scope: Scope, window: Window) -> ibis.Table:
    """Movements per changed (period, account); shared by a batch's queries over the same
    periods (`Workspace.shared`): every revenue metric but mrr/arr reads them."""
    key = ("account_mrr", scope.as_of, window.grain, tuple(window.periods), window.tz)
    return scope.ws.shared(key, lambda: with_movements(mrr_at_ends(scope, window), window))


def account_mrr_rows(ctx: Context) -> ibis.Table:
    """The `account_mrr` entity: movements per changed (period, account), with the query's
    dimensions."""
    rows = movement_rows(ctx.scope, ctx.window)
    return with_account_dimensions(ctx, rows, "MRR movements")


def same_period(ctx: object, t: ibis.Table, next_start: ibis.Value) -> ibis.Value:
    """SNAPSHOT predicate for per-period rows: the row belongs to the spine's period."""
    return t._next == next_start


declare(Entity("account_mrr", table="subscriptions", from_query=account_mrr_rows,
               span=(("subscriptions", "started_at"), ("subscriptions", "ended_at")),
               description="Per period and account whose MRR can change: MRR at the previous "
                           "and this period's end, and the movement."))
