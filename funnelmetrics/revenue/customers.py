"""New customers (SPEC §3 cac): who became a customer, and when.

A customer is an account (or, for a won deal with no account, its lead, else the deal itself). It
becomes one at its first won opportunity or its first paid subscription (mrr > 0), whichever comes
first. Each row carries the columns of the customer's first won opportunity (null when it has none)
so it can be split like opportunities; its `lead_id` is the account's acquiring lead
(`channels.acquiring_leads`), else the deal's lead — so `by=channel` is the channel of the lead
the customer came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from funnelmetrics.revenue.channels import acquiring_leads

if TYPE_CHECKING:
    from funnelmetrics.compile.entities import Scope

_HELPERS = ("_key", "_acc", "_aq_acc", "_aq_lead", "customer_key_right")


def _first_won(scope: Scope) -> ibis.Table:
    """Each customer's first won opportunity (all its columns) with its `customer_key`."""
    from funnelmetrics.compile.entities import base

    opps = base(scope, "opportunities")
    won = opps.filter(opps.status == "won")
    key = ibis.coalesce(won.account_id, ibis.literal("lead:") + won.lead_id,
                        ibis.literal("opportunity:") + won.opportunity_id)
    won = won.mutate(customer_key=key)
    ranked = won.mutate(_rn=ibis.row_number().over(
        group_by=won.customer_key, order_by=[won.closed_at, won.opportunity_id]))
    return ranked.filter(ranked._rn == 0).drop("_rn")


def new_customers(scope: Scope) -> ibis.Table:
    """One row per customer: `customer_key`, `customer_at`, its lead and the columns of its
    first won deal."""
    from funnelmetrics.compile.entities import base

    first_won = _first_won(scope)
    subs = base(scope, "subscriptions")
    subs = subs.filter(subs.mrr > 0)
    starts = first_won.select(_key=first_won.customer_key, _acc=first_won.account_id,
                              _at=first_won.closed_at.cast("timestamp")).union(
        subs.select(_key=subs.account_id, _acc=subs.account_id,
                    _at=subs.started_at.cast("timestamp")))
    firsts = starts.group_by("_key").aggregate(customer_at=starts._at.min(),
                                               _acc=starts._acc.max())
    j = firsts.left_join(first_won, firsts._key == first_won.customer_key)
    acquired = acquiring_leads(scope, among=firsts._acc)
    acquired = acquired.select(_aq_acc=acquired.account_id, _aq_lead=acquired.lead_id)
    j = j.left_join(acquired, j._acc == acquired._aq_acc)
    j = j.mutate(customer_key=j._key, account_id=ibis.coalesce(j.account_id, j._acc),
                 lead_id=ibis.coalesce(j._aq_lead, j.lead_id))
    return j.drop(*[c for c in _HELPERS if c in j.columns])
