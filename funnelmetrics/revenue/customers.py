"""New customers (SPEC §3 cac): who became a customer, and when.

A customer is an account (or, for a won deal with no account, its lead, else the deal itself). It
becomes one at its first won opportunity or its first paid subscription (mrr > 0), whichever comes
first. Each row carries the columns of the customer's first won opportunity (null when it has none)
so it can be split like opportunities — its `amount` as recorded, not converted, since no measure
reads it; its `lead_id` is the account's acquiring lead (`channels.acquiring_leads`), else the
deal's lead — so `by=channel` is the channel of the lead the customer came from.

Only the accounts with no won deal that has a lead need their earliest lead, so only their leads
are ranked (not every lead of the workspace).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from funnelmetrics.revenue.channels import earliest_leads, first_won_leads
from funnelmetrics.semantic.model import Entity
from funnelmetrics.semantic.registry import base, declare

if TYPE_CHECKING:
    from funnelmetrics.semantic.model import Scope

_HELPERS = ("_key", "_acc", "_wl_acc", "_won_lead", "_acc2", "_first_lead", "customer_key_right")


def _won(scope: Scope) -> ibis.Table:
    """Won opportunities with their `customer_key`."""
    opps = base(scope, "deals")  # no amount is read: no currency conversion
    won = opps.filter(opps.status == "won")
    key = ibis.coalesce(won.account_id, ibis.literal("lead:") + won.lead_id,
                        ibis.literal("opportunity:") + won.opportunity_id)
    return won.mutate(customer_key=key)


def _first_won(won: ibis.Table) -> ibis.Table:
    """Each customer's first won opportunity (all its columns) with its `customer_key`."""
    ranked = won.mutate(_rn=ibis.row_number().over(
        group_by=won.customer_key, order_by=[won.closed_at, won.opportunity_id]))
    return ranked.filter(ranked._rn == 0).drop("_rn")


def new_customers(scope: Scope) -> ibis.Table:
    """One row per customer: `customer_key`, `customer_at`, its lead and the columns of its
    first won deal (shared by a batch's queries, `Workspace.shared`)."""
    return scope.ws.shared(("new_customers", scope.as_of), lambda: _new_customers(scope))


def _new_customers(scope: Scope) -> ibis.Table:
    won = _won(scope)
    subs = scope.ws.table("subscriptions")  # started as of the scope's instant; mrr unconverted
    subs = subs.filter((subs.mrr > 0) & scope.before(subs.started_at))
    starts = won.select(_key=won.customer_key, _acc=won.account_id,
                        _at=won.closed_at.cast("timestamp")).union(
        subs.select(_key=subs.account_id, _acc=subs.account_id,
                    _at=subs.started_at.cast("timestamp")))
    firsts = starts.group_by("_key").aggregate(customer_at=starts._at.min(),
                                               _acc=starts._acc.max())
    first_won = _first_won(won)
    j = firsts.left_join(first_won, firsts._key == first_won.customer_key)
    # The acquiring lead (channels.acquiring_leads): the lead of the account's first won deal
    # with one, else its earliest lead — ranked only for accounts with no won deal with a lead.
    won_leads = first_won_leads(scope)
    j = j.left_join(won_leads, j._acc == won_leads._wl_acc)
    without = firsts.filter(firsts._acc.notnull() & ~firsts._acc.isin(won_leads._wl_acc))._acc
    earliest = earliest_leads(scope, among=without)
    j = j.left_join(earliest, j._acc == earliest._acc2)
    j = j.mutate(customer_key=j._key, account_id=ibis.coalesce(j.account_id, j._acc),
                 lead_id=ibis.coalesce(j._won_lead, j._first_lead, j.lead_id))
    return j.drop(*[c for c in _HELPERS if c in j.columns])


declare(Entity("new_customers", table="opportunities", rows=new_customers,
               dimensions_of="opportunities", times=("customer_at",),
               span=(("new_customers", "customer_at"),),
               description="Customers, from their first won deal or first paid subscription."))
