"""Marketing channels of leads, deals, spend and accounts (SPEC §3 cost_per_lead, cac).

- a lead's channel is its campaign's channel, else its `source`;
- a deal's channel is its lead's channel;
- a spend row's channel is its own `channel`, else its campaign's;
- an account's channel and campaign are those of its acquiring lead: the lead of its first won
  opportunity, else its earliest lead (`leads.account_id`).

Each `*_channel` function is a derived column of an entity (declared at the end of this module):
it takes the entity's rows and returns them with a `dim:channel` (or `dim:campaign_id`) column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from funnelmetrics.semantic.model import DerivedColumn
from funnelmetrics.semantic.registry import add_column, base

if TYPE_CHECKING:
    from funnelmetrics.semantic.model import Scope


def _campaign_channels(scope: Scope) -> ibis.Table:
    campaigns = scope.ws.table("campaigns")
    return campaigns.select(_cc_id=campaigns.campaign_id,
                            _cc_channel=campaigns.channel.nullif(""))


def lead_channels(scope: Scope) -> ibis.Table:
    """One row per lead: lead_id, its channel (campaign's, else source) and campaign_id."""
    leads = scope.ws.table("leads")
    campaigns = _campaign_channels(scope)
    j = leads.left_join(campaigns, leads.campaign_id == campaigns._cc_id)
    return j.select(lead_id=j.lead_id, channel=ibis.coalesce(j._cc_channel, j.source.nullif("")),
                    campaign_id=j.campaign_id)


def lead_channel(scope: Scope, t: ibis.Table) -> ibis.Table:
    """Leads (or rows with a lead's `campaign_id` and `source`) with `dim:channel`."""
    campaigns = _campaign_channels(scope)
    j = t.left_join(campaigns, t.campaign_id == campaigns._cc_id)
    channel = ibis.coalesce(j._cc_channel, j.source.nullif("")).cast("string")
    return j.mutate(**{"dim:channel": channel}).drop("_cc_id", "_cc_channel")


def deal_channel(scope: Scope, t: ibis.Table) -> ibis.Table:
    """Rows with a `lead_id` (opportunities, new customers) with their lead's `dim:channel`."""
    leads = lead_channels(scope)
    right = leads.select(_lc_id=leads.lead_id, _lc_channel=leads.channel)
    j = t.left_join(right, t.lead_id == right._lc_id)
    return j.mutate(**{"dim:channel": j._lc_channel.cast("string")}).drop("_lc_id", "_lc_channel")


def spend_channel(scope: Scope, t: ibis.Table) -> ibis.Table:
    """Spend rows with `dim:channel`: their own channel, else their campaign's."""
    campaigns = _campaign_channels(scope)
    j = t.left_join(campaigns, t.campaign_id == campaigns._cc_id)
    channel = ibis.coalesce(j.channel.nullif(""), j._cc_channel).cast("string")
    return j.mutate(**{"dim:channel": channel}).drop("_cc_id", "_cc_channel")


def first_won_leads(scope: Scope) -> ibis.Table:
    """Per account (`_wl_acc`): the lead of its first won opportunity that has one
    (`_won_lead`)."""
    opps = base(scope, "deals")  # no amount is read: no currency conversion
    won = opps.filter((opps.status == "won") & opps.account_id.notnull() & opps.lead_id.notnull())
    first_won = won.mutate(_rn=ibis.row_number().over(
        group_by=won.account_id, order_by=[won.closed_at, won.opportunity_id]))
    return first_won.filter(first_won._rn == 0).select(
        _wl_acc=first_won.account_id, _won_lead=first_won.lead_id)


def earliest_leads(scope: Scope, among: ibis.Value | None = None) -> ibis.Table:
    """Per account (`_acc2`): its earliest lead (`_first_lead`). `among` (a column of account
    ids) limits the ranking to those accounts: far cheaper than ranking every lead when few are
    wanted (the new customers of `cac`)."""
    leads = base(scope, "leads")
    leads = leads.filter(leads.account_id.notnull())
    if among is not None:
        leads = leads.filter(leads.account_id.isin(among))
    earliest = leads.mutate(_rn=ibis.row_number().over(
        group_by=leads.account_id, order_by=[leads.created_at, leads.lead_id]))
    return earliest.filter(earliest._rn == 0).select(
        _acc2=earliest.account_id, _first_lead=earliest.lead_id)


def acquiring_leads(scope: Scope) -> ibis.Table:
    """One row per account: account_id and the lead that brought it in (see module doc)."""
    first_won, earliest = first_won_leads(scope), earliest_leads(scope)
    accounts = first_won.select(account_id=first_won._wl_acc).union(
        earliest.select(account_id=earliest._acc2)).distinct()
    j = accounts.left_join(first_won, accounts.account_id == first_won._wl_acc)
    j = j.left_join(earliest, j.account_id == earliest._acc2)
    return j.select(account_id=j.account_id, lead_id=ibis.coalesce(j._won_lead, j._first_lead))


def _account_lead_attribute(scope: Scope, t: ibis.Table, name: str) -> ibis.Table:
    acquired = acquiring_leads(scope).view()
    leads = lead_channels(scope).view()
    leads = leads.select(_al_lead=leads.lead_id, _al_value=leads[name])
    right = acquired.left_join(leads, acquired.lead_id == leads._al_lead)
    right = right.select(_al_acc=right.account_id, _al_value=right._al_value)
    j = t.left_join(right, t.account_id == right._al_acc)
    return j.mutate(**{f"dim:{name}": j._al_value.cast("string")}).drop("_al_acc", "_al_value")


def account_channel(scope: Scope, t: ibis.Table) -> ibis.Table:
    """Rows with an `account_id` (subscriptions, per-account MRR) with the account's channel."""
    return _account_lead_attribute(scope, t, "channel")


def account_campaign(scope: Scope, t: ibis.Table) -> ibis.Table:
    """Rows with an `account_id` with the campaign_id of the account's acquiring lead."""
    return _account_lead_attribute(scope, t, "campaign_id")


add_column("leads", DerivedColumn("channel", lead_channel))
add_column("opportunities", DerivedColumn("channel", deal_channel))
add_column("spend", DerivedColumn("channel", spend_channel))
add_column("subscriptions", DerivedColumn("channel", account_channel))
add_column("subscriptions", DerivedColumn("campaign_id", account_campaign))
