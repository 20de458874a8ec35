"""The canonical entities: one declaration per table of SPEC §2 (plus two views of opportunities).

Each is seen *as of* an instant (SPEC §5 `--as-of`): rows that did not exist yet are left out,
and a deal closed or a subscription ended after the instant is still open or active.
"""

from __future__ import annotations

import ibis

from funnelmetrics.semantic.model import Currency, Entity, History, Join, Scope
from funnelmetrics.semantic.registry import declare

REP = Join("rep", "reps", "rep_id", "rep_id")
ACCOUNT = Join("account", "accounts", "account_id", "account_id")
CAMPAIGN = Join("campaign", "campaigns", "campaign_id", "campaign_id")
LEAD = Join("lead", "leads", "lead_id", "lead_id")

_DEAL_SPAN = (("opportunities", "created_at"), ("opportunities", "closed_at"))


def opportunity_rows(scope: Scope) -> ibis.Table:
    """Opportunities as of the instant: a deal closed later is open, with no closed_at."""
    t = scope.ws.table("opportunities")
    if scope.as_of is not None:
        t = t.filter(scope.before(t.created_at))
    closed = t.status.isin(["won", "lost"]) & t.closed_at.notnull() & scope.before(t.closed_at)
    return t.mutate(status=ibis.ifelse(closed, t.status, "open"),
                    closed_at=ibis.ifelse(closed, t.closed_at, ibis.null("timestamp")))


def _opportunities_with_lead(scope: Scope) -> ibis.Table:
    """Opportunities with their lead's created_at (`lead_created_at`), for cycle-from-lead."""
    opps, leads = opportunity_rows(scope), scope.ws.table("leads")
    right = leads.select(_lid=leads.lead_id, lead_created_at=leads.created_at)
    return opps.left_join(right, opps.lead_id == right._lid).drop("_lid")


def _subscriptions(scope: Scope) -> ibis.Table:
    """Subscriptions as of the instant: started before it; one that ended later is still active."""
    t = scope.ws.table("subscriptions")
    if scope.as_of is None:
        return t
    t = t.filter(scope.before(t.started_at))
    return t.mutate(ended_at=ibis.ifelse(t.ended_at >= scope.as_of, ibis.null("timestamp"),
                                         t.ended_at))


_DEAL = dict(table="opportunities", key=("opportunity_id",),
             times=("created_at", "closed_at", "expected_close_at"),
             measures=("amount", "probability"), joins=(LEAD, REP, ACCOUNT),
             history=(History("deal_stage", "deal_stage_events", "opportunity_id",
                              "deal_stage"),),
             span=_DEAL_SPAN)

declare(
    Entity("leads", table="leads", key=("lead_id",), times=("created_at",), as_of_time="created_at",
           joins=(REP, ACCOUNT, CAMPAIGN), span=(("leads", "created_at"),),
           description="Leads, each entering the funnel's first stage at its created_at."),
    Entity("stage_events", table="stage_events", key=("lead_id", "stage", "occurred_at"),
           times=("occurred_at",), as_of_time="occurred_at",
           span=(("stage_events", "occurred_at"),)),
    # amounts at the rate of closed_at, or created_at while open
    Entity("opportunities", rows=opportunity_rows, **_DEAL,
           currency=Currency(("amount",), lambda t: ibis.coalesce(t.closed_at, t.created_at)),
           description="Opportunities as of the instant, amounts in the reporting currency."),
    # the same rows for measures that read no amount: no currency conversion, no probe
    Entity("deals", rows=opportunity_rows, dimensions_of="opportunities", **_DEAL),
    Entity("opportunities_with_lead", rows=_opportunities_with_lead,
           dimensions_of="opportunities", **{**_DEAL, "times": (*_DEAL["times"],
                                                                 "lead_created_at")}),
    Entity("deal_stage_events", table="deal_stage_events",
           key=("opportunity_id", "deal_stage", "occurred_at"), times=("occurred_at",),
           as_of_time="occurred_at", span=(("deal_stage_events", "occurred_at"),)),
    Entity("accounts", table="accounts", key=("account_id",), times=("created_at",),
           measures=("employees",)),
    Entity("reps", table="reps", key=("rep_id",)),
    Entity("quotas", table="quotas", key=("rep_id", "period_start"),
           calendar_dates=("period_start", "period_end"), measures=("amount",), joins=(REP,),
           span=(("quotas", "period_start"),)),
    Entity("campaigns", table="campaigns", key=("campaign_id",),
           times=("started_at", "ended_at"), measures=("budget",)),
    Entity("spend", table="spend", key=("date", "channel", "campaign_id", "category"),
           calendar_dates=("date",), measures=("amount",), joins=(CAMPAIGN,),
           as_of_time="date", currency=Currency(("amount",), lambda t: t.date),
           span=(("spend", "date"),)),
    Entity("touchpoints", table="touchpoints", key=("lead_id", "occurred_at", "channel"),
           times=("occurred_at",), as_of_time="occurred_at", joins=(LEAD, CAMPAIGN),
           span=(("touchpoints", "occurred_at"),)),
    Entity("subscriptions", table="subscriptions", key=("subscription_id",), rows=_subscriptions,
           times=("started_at", "ended_at"), measures=("mrr",), joins=(ACCOUNT,),
           currency=Currency(("mrr",), lambda t: t.started_at),
           span=(("subscriptions", "started_at"),)),
    Entity("engagement_events", table="engagement_events", times=("occurred_at",),
           as_of_time="occurred_at", measures=("weight",), joins=(ACCOUNT,),
           span=(("engagement_events", "occurred_at"),)),
    Entity("survey_responses", table="survey_responses", key=("survey_id", "respondent_id"),
           times=("answered_at",), as_of_time="answered_at", measures=("score",),
           span=(("survey_responses", "answered_at"),)),
    Entity("fx_rates", table="fx_rates", key=("currency", "date"), calendar_dates=("date",),
           measures=("rate_to_reporting",)),
    Entity("kpi_targets", table="kpi_targets", key=("metric", "period_start", "dimension", "value"),
           calendar_dates=("period_start", "period_end"), measures=("target",)),
)
