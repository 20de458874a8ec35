"""Attributed won revenue as rows per won deal and channel — what `marketing_roi` sums (SPEC §3).

`funnelmetrics.revenue.credit` asks a credit model for rows (`closed_at`, `channel`,
`campaign_id`, `amount`): each won opportunity's amount, shared among the channels that touched
its lead's journey to `won`, placed in the period the deal was won. Every attribution model is
registered there under its name (`metric marketing_roi --param model=linear`).

Per model: a rule model's journey weights share each deal's amount (in SQL, lazily). Markov's
credit is a property of the whole chain, so each touched deal is shared by the normalised removal
effects fitted on every journey as of the scope. Shapley with v(S) = value of the journeys whose
channel set ⊆ S is a sum of unanimity games, so its exact value gives each journey's value in
equal parts to its distinct channels — rows that add up to the exact Shapley values (campaign_id
is null for these two, which credit channels). A won journey with no touch is credited to
"(no touch)". Deals of leads that never reached `won` (no stage event) are not credited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from funnelmetrics.attribution.base import RuleModel
from funnelmetrics.attribution.journeys import NO_TOUCH, Journeys, build_journeys, credit_stage
from funnelmetrics.attribution.markov import Markov
from funnelmetrics.attribution.models import MODELS, make_model
from funnelmetrics.revenue.credit import register_credit_model
from funnelmetrics.semantic.registry import base

if TYPE_CHECKING:
    from funnelmetrics.semantic.model import Scope


def credit_rows(scope: Scope, model: str = "linear") -> ibis.Table:
    """Won deals' amounts credited to channels and campaigns by `model` (see the module doc)."""
    journeys = build_journeys(scope.ws, conversion=credit_stage(scope.ws.config), scope=scope)
    fitted = make_model(model)
    opps = base(scope, "opportunities")
    won = opps.filter((opps.status == "won") & opps.lead_id.notnull())
    deals = won.select(_dlid=won.lead_id, closed_at=won.closed_at,
                       _amount=won.amount.cast("float64"))
    if isinstance(fitted, RuleModel):
        t = fitted.weighted(journeys)
        shares = t.select(_slid=t.lead_id, channel=t.channel, campaign_id=t.campaign_id,
                          _share=t._weight)
    elif isinstance(fitted, Markov):
        shares = _markov_shares(fitted.fit(journeys), journeys)
    else:
        shares = _distinct_channel_shares(journeys)
    j = deals.inner_join(shares, deals._dlid == shares._slid)
    touched = j.select(closed_at=j.closed_at, channel=j.channel.cast("string"),
                       campaign_id=j.campaign_id.cast("string"),
                       amount=(j._amount * j._share).cast("float64"))
    return touched.union(_no_touch_rows(journeys, deals))


def _markov_shares(model: Markov, journeys: Journeys) -> ibis.Table:
    """Every touched converted lead × channel, with the channel's normalised removal effect."""
    effects = model.removal_effects_
    total = float(effects.sum())
    shares = ibis.memtable(
        {"channel": list(effects.index), "_share": [e / total if total else 0.0 for e in effects],
         "campaign_id": [None] * len(effects)},
        schema={"channel": "string", "_share": "float64", "campaign_id": "string"})
    t = journeys.touches
    leads = t.select(_slid=t.lead_id).distinct()
    return leads.cross_join(shares)


def _distinct_channel_shares(journeys: Journeys) -> ibis.Table:
    """Each touched converted lead's distinct channels, 1/(their number) each."""
    t = journeys.touches
    pairs = t.select(_slid=t.lead_id, channel=t.channel).distinct()
    pairs = pairs.mutate(_share=1.0 / pairs.count().over(group_by=pairs._slid).cast("float64"))
    return pairs.mutate(campaign_id=ibis.null("string"))


def _no_touch_rows(journeys: Journeys, deals: ibis.Table) -> ibis.Table:
    """Won deals of converted leads whose journey has no touch: all to "(no touch)"."""
    t = journeys.touches
    touched = t.select(_tl=t.lead_id).distinct()
    c = journeys.conversions
    lonely = c.anti_join(touched, c.lead_id == touched._tl).select(_nl=c.lead_id)
    j = deals.inner_join(lonely, deals._dlid == lonely._nl)
    return j.select(closed_at=j.closed_at, channel=ibis.literal(NO_TOUCH, "string"),
                    campaign_id=ibis.null("string"), amount=j._amount)


def register() -> None:
    """Register every attribution model as a `marketing_roi` credit model (done on import)."""
    for name in MODELS:
        register_credit_model(name, lambda scope, _name=name: credit_rows(scope, _name))


register()
