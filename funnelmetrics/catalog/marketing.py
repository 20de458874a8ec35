"""Marketing-cost metrics (SPEC §3): cost per lead / opportunity, CAC, marketing ROI, won revenue.

Split by `channel` and `campaign_id` (SPEC §3 "split by channel/campaign when spend has them"):
a spend row's channel is its own `channel`, else its campaign's; a lead's channel is its
campaign's channel, else its `source`; a deal's or a new customer's is its lead's
(`funnelmetrics.revenue.channels`). Spend without channel or campaign is the "unknown" (null)
channel.
"""

from __future__ import annotations

from typing import Any

import ibis

from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Param, Text, Unit
from funnelmetrics.compile.context import Context, safe_div
from funnelmetrics.revenue import channels as _channels  # noqa: F401  (the channel dimensions)
from funnelmetrics.revenue import credit as _credit  # noqa: F401  (credited_revenue)
from funnelmetrics.revenue import customers as _customers  # noqa: F401  (new_customers)


def is_marketing(ctx: Context, t: ibis.Table) -> ibis.Value:
    """Spend of category marketing (the default when the category is missing, SPEC §2)."""
    return t.category.fill_null("marketing") == "marketing"


MARKETING_SPEND = Measure("spend", Agg.SUM, time="date", expr="amount", where=is_marketing)
ALL_SPEND = Measure("spend", Agg.SUM, time="date", expr="amount")
NEW_CUSTOMERS = Measure("new_customers", Agg.COUNT, time="customer_at")
CAC_MEASURES = {"spend": ALL_SPEND, "new_customers": NEW_CUSTOMERS}

MODEL = Param("model", "source", "Credit model for the won revenue: source (the lead's "
              "channel) or a registered attribution model.", kind="text")


def cac_of(cols: dict[str, Any]) -> ibis.Value:
    """(marketing + sales spend) / new customers (SPEC §3 cac)."""
    return safe_div(cols["spend"], cols["new_customers"])


def _cost_per(what: str) -> Any:
    return c.ratio_of("marketing_spend", what)


COST_PER_LEAD = Metric(
    kind=Kind.RATIO,
    id="cost_per_lead",
    name=Text("Cost per lead", "Biaya per prospek", "Kos setiap prospek"),
    description=Text(
        "Marketing spend in the period divided by the leads created in it; by channel or "
        "campaign_id, that channel's spend over the leads it brought (a lead's channel is its "
        "campaign's channel, else its source).",
        "Belanja pemasaran dalam periode dibagi prospek yang dibuat di dalamnya; per channel atau "
        "campaign_id, belanja channel itu dibagi prospek yang dibawanya (channel prospek adalah "
        "channel kampanyenya, atau sumbernya).",
        "Perbelanjaan pemasaran dalam tempoh dibahagi prospek yang dicipta di dalamnya; mengikut "
        "saluran atau campaign_id, perbelanjaan saluran itu dibahagi prospek yang dibawanya "
        "(saluran prospek ialah saluran kempennya, atau sumbernya)."),
    unit=Unit.CURRENCY, higher_is_better=False, entity="spend", group="marketing",
    measures={"marketing_spend": MARKETING_SPEND,
              "leads": Measure("leads", Agg.COUNT, time="created_at")},
    combine=_cost_per("leads"), is_ratio=True, formula="marketing spend / leads created",
)

COST_PER_OPPORTUNITY = Metric(
    kind=Kind.RATIO,
    id="cost_per_opportunity",
    name=Text("Cost per opportunity", "Biaya per peluang", "Kos setiap peluang"),
    description=Text(
        "Marketing spend in the period divided by the opportunities created in it (by channel: "
        "the channel of the opportunity's lead).",
        "Belanja pemasaran dalam periode dibagi peluang yang dibuat di dalamnya (per channel: "
        "channel prospek dari peluang itu).",
        "Perbelanjaan pemasaran dalam tempoh dibahagi peluang yang dicipta di dalamnya (mengikut "
        "saluran: saluran prospek bagi peluang itu)."),
    unit=Unit.CURRENCY, higher_is_better=False, entity="spend", group="marketing",
    measures={"marketing_spend": MARKETING_SPEND,
              "opportunities": Measure("opportunities", Agg.COUNT, time="created_at")},
    combine=_cost_per("opportunities"), is_ratio=True,
    formula="marketing spend / opportunities created",
)

CAC = Metric(
    kind=Kind.RATIO,
    id="cac",
    name=Text("Customer acquisition cost (CAC)", "Biaya akuisisi pelanggan (CAC)",
              "Kos pemerolehan pelanggan (CAC)"),
    description=Text(
        "Marketing plus sales spend in the period divided by the new customers of the period (an "
        "account's first won opportunity or first paid subscription, whichever came first); by "
        "channel, that channel's spend over the new customers whose lead came from it.",
        "Belanja pemasaran ditambah penjualan dalam periode dibagi pelanggan baru periode itu "
        "(peluang menang pertama atau langganan berbayar pertama sebuah akun, mana yang lebih "
        "dulu); per channel, belanja channel itu dibagi pelanggan baru yang prospeknya dari sana.",
        "Perbelanjaan pemasaran dan jualan dalam tempoh dibahagi pelanggan baharu tempoh itu "
        "(peluang dimenangi pertama atau langganan berbayar pertama sesebuah akaun, yang mana "
        "dahulu); mengikut saluran, perbelanjaan saluran itu dibahagi pelanggan baharu yang "
        "prospeknya datang darinya."),
    unit=Unit.CURRENCY, higher_is_better=False, entity="spend", group="marketing",
    measures=CAC_MEASURES, combine=c.ratio_of("spend", "new_customers"), is_ratio=True,
    formula="(marketing + sales spend) / new customers",
)


def _roi(ctx: Context, cols: dict[str, Any]) -> dict[str, Any]:
    gain = cols["credited_revenue"] - cols["marketing_spend"]
    return {"value": safe_div(gain, cols["marketing_spend"]), "numerator": gain,
            "denominator": cols["marketing_spend"]}


MARKETING_ROI = Metric(
    kind=Kind.RATIO,
    id="marketing_roi",
    name=Text("Marketing ROI", "ROI pemasaran", "ROI pemasaran"),
    description=Text(
        "(Won revenue credited to marketing − marketing spend) / marketing spend, by the period "
        "the deals were won in. model=source (default) credits each won deal to its lead's "
        "channel; other models come from attribution.",
        "(Pendapatan menang yang dikreditkan ke pemasaran − belanja pemasaran) / belanja "
        "pemasaran, menurut periode transaksi dimenangkan. model=source (bawaan) mengkreditkan "
        "tiap transaksi ke channel prospeknya; model lain dari atribusi.",
        "(Hasil dimenangi yang dikreditkan kepada pemasaran − perbelanjaan pemasaran) / "
        "perbelanjaan pemasaran, mengikut tempoh urus niaga dimenangi. model=source (lalai) "
        "mengkreditkan setiap urus niaga kepada saluran prospeknya; model lain daripada "
        "atribusi."),
    unit=Unit.RATIO, higher_is_better=True, entity="spend", group="marketing", params=(MODEL,),
    measures={"credited_revenue": Measure("credited_revenue", Agg.SUM, time="closed_at",
                                          expr="amount"),
              "marketing_spend": MARKETING_SPEND},
    combine=_roi, is_ratio=True,
    formula="(credited won revenue − marketing spend) / marketing spend",
)

WON_REVENUE = Metric(
    kind=Kind.SUM,
    id="won_revenue",
    name=Text("Won revenue", "Pendapatan dari transaksi menang", "Hasil urus niaga dimenangi"),
    description=Text(
        "Sum of the amounts of opportunities won in the period; by=channel gives revenue per "
        "channel (the channel of the deal's lead: its campaign's channel, else its source).",
        "Jumlah nilai peluang yang dimenangkan dalam periode; by=channel memberi pendapatan per "
        "channel (channel prospek transaksi: channel kampanyenya, atau sumbernya).",
        "Jumlah nilai peluang yang dimenangi dalam tempoh; by=channel memberi hasil mengikut "
        "saluran (saluran prospek urus niaga: saluran kempennya, atau sumbernya)."),
    unit=Unit.CURRENCY, higher_is_better=True, entity="opportunities", group="marketing",
    measures={"won_amount": Measure("opportunities", Agg.SUM, time="closed_at", expr="amount",
                                    where=c.is_won)},
    combine=c.value_of("won_amount"), formula="sum(amount) of deals won in period",
)

METRICS = [COST_PER_LEAD, COST_PER_OPPORTUNITY, CAC, MARKETING_ROI, WON_REVENUE]
