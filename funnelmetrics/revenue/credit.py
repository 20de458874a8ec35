"""Won revenue credited to channels, by a pluggable model (SPEC §3 marketing_roi, §4 attribution).

The hook: a credit model is a function `(scope) -> ibis.Table` of credited rows with the columns
`closed_at` (timestamp: when the credited deal was won; it places the row in a period),
`channel`, `campaign_id` and `amount` (the revenue credited to that channel/campaign). Rows of one
deal may share its amount among several channels; amounts are in the reporting currency.

The built-in model, `source`, credits each won opportunity's whole amount to its lead's channel
(the campaign's channel, else the lead's source). An attribution model registers itself with
`register_credit_model(name, build)` when its module is imported; the workspace façade adds
that import as a provider (`add_provider`), run the first time a model not registered yet is
asked for: the attribution package loads pandas, which a plain metric does not need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ibis

from funnelmetrics.errors import QueryError
from funnelmetrics.revenue.channels import lead_channels
from funnelmetrics.semantic.model import Entity
from funnelmetrics.semantic.registry import apply_where, base, declare

if TYPE_CHECKING:
    from funnelmetrics.compile.context import Context
    from funnelmetrics.semantic.model import Scope

CreditModel = Callable[["Scope"], ibis.Table]
CREDIT_COLUMNS = ("closed_at", "channel", "campaign_id", "amount")
DIMENSIONS = ("channel", "campaign_id")


def source_credit(scope: Scope) -> ibis.Table:
    """Each won deal's amount, credited to its lead's channel and campaign."""
    opps = base(scope, "opportunities")
    won = opps.filter(opps.status == "won")
    leads = lead_channels(scope)
    right = leads.select(_cl_id=leads.lead_id, _cl_channel=leads.channel,
                         _cl_campaign=leads.campaign_id)
    j = won.left_join(right, won.lead_id == right._cl_id)
    return j.select(closed_at=j.closed_at, channel=j._cl_channel, campaign_id=j._cl_campaign,
                    amount=j.amount.cast("float64"))


CREDIT_MODELS: dict[str, CreditModel] = {"source": source_credit}


def register_credit_model(name: str, build: CreditModel) -> None:
    """Make `marketing_roi --param model=NAME` use `build` (see the module doc for its rows)."""
    CREDIT_MODELS[name] = build


PROVIDERS: list[Callable[[], object]] = []  # each registers more models when called


def add_provider(provide: Callable[[], object]) -> None:
    """`provide()` registers credit models; it is called (once) when a model is asked for that
    is not registered yet."""
    PROVIDERS.append(provide)


def credit_model(name: str) -> CreditModel:
    """The registered model, or a QueryError naming those there are."""
    while name not in CREDIT_MODELS and PROVIDERS:
        PROVIDERS.pop(0)()
    if name not in CREDIT_MODELS:
        raise QueryError(f"unknown credit model {name!r}; available: "
                         f"{', '.join(sorted(CREDIT_MODELS))}")
    return CREDIT_MODELS[name]


def credited_rows(ctx: Context) -> ibis.Table:
    """The `credited_revenue` entity for the query's `model` parameter, with its dimensions."""
    model = str(ctx.params.get("model") or "source")
    rows = credit_model(model)(ctx.scope)
    names = list(dict.fromkeys([*ctx.by, *ctx.where]))
    unknown = [n for n in names if n not in DIMENSIONS]
    if unknown:
        raise QueryError(f"credited revenue splits by {' or '.join(DIMENSIONS)} only, not "
                         f"{unknown[0]!r}")
    rows = rows.mutate(**{f"dim:{n}": rows[n].cast("string") for n in names})
    return apply_where(rows, ctx.where)


declare(Entity("credited_revenue", table="opportunities", times=("closed_at",),
               from_query=credited_rows, span=(("opportunities", "closed_at"),),
               description="Won revenue credited to channels and campaigns by a credit model."))
