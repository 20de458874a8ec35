"""Review sections on money: revenue (MRR waterfall, churn, NRR, cohort retention) and marketing
(attribution models side by side, ROI, CAC and LTV:CAC by channel).

Figures: `revenue.movements.mrr_waterfall`, catalogue retention metrics (`figures.kpi_table`),
`revenue.cohorts.mrr_cohorts`, `attribution.report.attribute_models`/`side_by_side` and the
catalogue's `marketing_roi`, `cac` and `ltv_to_cac` by channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from funnelmetrics.compile.time import Grain, shift
from funnelmetrics.i18n.gettext import N_
from funnelmetrics.insights.findings import Period
from funnelmetrics.reports.figures import (
    by_period,
    day,
    kpi_table,
    not_filtered,
    num,
    with_filter,
)
from funnelmetrics.reports.model import Chart, Column, Label, Ref, Section, Sentence, Table

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

STEPS = {"start": N_("MRR at start"), "new": N_("New"), "expansion": N_("Expansion"),
         "reactivation": N_("Reactivation"), "contraction": N_("Contraction"),
         "churn": N_("Churn"), "end": N_("MRR at end")}
RETENTION = [("customer_churn_rate", {}), ("gross_mrr_churn_rate", {}),
             ("net_revenue_retention", {}), ("quick_ratio", {}), ("arpa", {})]


def revenue(ws: Workspace, period: Period, where: dict[str, str]) -> Section:
    from funnelmetrics.revenue.movements import mrr_waterfall

    section = Section("revenue", N_("Revenue"))
    df = with_filter(section, N_("MRR waterfall"), where, lambda w: mrr_waterfall(
        ws, grain=period.grain.value, start=period.start, end=period.end, where=w or None))
    row = by_period(df).get(period.start)
    if row is None or not any(num(row[key]) for key in STEPS):  # no MRR at all: no data
        section.missing = N_("No data for this section in this period.")
        return section
    steps = Table("waterfall", N_("MRR waterfall"), [
        Column("step", N_("Step"), "label"), Column("amount", N_("Amount"), "currency")],
        [{"step": label, "amount": num(row[key])} for key, label in STEPS.items()])
    section.tables.append(steps)
    section.charts.append(Chart("waterfall", "step", "amount", N_("MRR waterfall")))
    retention, _ = kpi_table(ws, "retention", N_("Churn and retention"), RETENTION, period,
                             where)
    section.tables.append(retention)
    at = {r["metric"]: i for i, r in enumerate(retention.rows)}
    section.sentences.append(Sentence(
        N_("MRR went from {start} to {end} in {period}: {new} new and {expansion} expansion, "
           "{churn} churned."),
        {"start": Ref("waterfall", 0, "amount"), "end": Ref("waterfall", 6, "amount"),
         "new": Ref("waterfall", 1, "amount"), "expansion": Ref("waterfall", 2, "amount"),
         "churn": Ref("waterfall", 5, "amount"), "period": Label(period, "period")}))
    if "net_revenue_retention" in at and "customer_churn_rate" in at:
        section.sentences.append(Sentence(
            N_("Net revenue retention was {nrr} and customer churn {churn}."),
            {"nrr": Ref("retention", at["net_revenue_retention"], "value"),
             "churn": Ref("retention", at["customer_churn_rate"], "value")}))
    if where:
        not_filtered(section, N_("Cohort retention"))
    _cohorts(ws, section, period)
    return section


def _cohorts(ws: Workspace, section: Section, period: Period) -> None:
    """Retention of the accounts that started in the last few periods (months for a monthly
    review, quarters otherwise), followed to the review's end."""
    from funnelmetrics.revenue.cohorts import mrr_cohorts

    grain = Grain.MONTH if period.grain is Grain.MONTH else Grain.QUARTER
    last = shift(period.next_start, grain, -1)
    df = mrr_cohorts(ws, grain=grain.value, start=shift(last, grain, -5), end=period.end)
    table = Table("cohorts", N_("Cohort retention"), [
        Column("cohort", N_("Cohort"), "date"),
        Column("periods_since_start", N_("Periods since start"), "count"),
        Column("cohort_accounts", N_("Accounts at start"), "count"),
        Column("accounts", N_("Accounts"), "count"),
        Column("account_retention", N_("Account retention"), "ratio"),
        Column("mrr_retention", N_("MRR retention"), "ratio")])
    for r in df.to_dict("records"):
        table.rows.append({"cohort": day(r["cohort"]),
                           **{c.key: num(r[c.key]) for c in table.columns[1:]}})
    section.tables.append(table)
    # the oldest cohort's latest period, the longest follow-up the table has
    followed = [(i, r) for i, r in enumerate(table.rows) if (r["periods_since_start"] or 0) >= 1
                and r["account_retention"] is not None]
    if followed:
        i, _ = min(followed, key=lambda ir: (ir[1]["account_retention"], ir[0]))
        section.sentences.append(Sentence(
            N_("Watch the cohort of {cohort}: {retention} of its accounts remained after "
               "{periods} periods."),
            {"cohort": Ref("cohorts", i, "cohort"),
             "retention": Ref("cohorts", i, "account_retention"),
             "periods": Ref("cohorts", i, "periods_since_start")}))


MODELS = {"first_touch": N_("First touch"), "last_touch": N_("Last touch"),
          "linear": N_("Linear"), "position_based": N_("Position based"),
          "markov": N_("Markov")}


def marketing(ws: Workspace, period: Period, where: dict[str, str]) -> Section:
    from funnelmetrics.attribution.report import attribute_models, side_by_side

    section = Section("marketing", N_("Marketing"))
    wide = side_by_side(attribute_models(ws, list(MODELS), start=period.start, end=period.end))
    by = wide.columns[0] if len(wide.columns) else "channel"
    columns = [Column("channel", N_("Channel")),
               *[Column(m, title, "currency") for m, title in MODELS.items()],
               Column("spend", N_("Spend"), "currency")]
    attribution = Table("attribution", N_("Credited revenue by attribution model"), columns,
                        [{"channel": str(r[by]), **{m: num(r.get(m)) for m in MODELS},
                          "spend": num(r.get("spend"))} for r in wide.to_dict("records")])
    section.tables.append(attribution)
    if where:
        not_filtered(section, attribution.title)
    roi, cac, ratio = with_filter(section, N_("Return by channel"), where, lambda w: ws.metrics(
        [("marketing_roi", {}), ("cac", {}), ("ltv_to_cac", {})], grain=period.grain.value,
        by="channel", start=period.start, end=period.end, where=w))
    channels = Table("channels", N_("Return by channel"), [
        Column("channel", N_("Channel")), Column("spend", N_("Spend"), "currency"),
        Column("roi", N_("Marketing ROI"), "ratio"), Column("cac", N_("CAC"), "currency"),
        Column("ltv_to_cac", N_("LTV:CAC"), "multiple")])
    cac_of = {r["channel"]: num(r["value"]) for r in cac.to_dict("records")}
    ratio_of = {r["channel"]: num(r["value"]) for r in ratio.to_dict("records")}
    for r in roi.to_dict("records"):
        if r["channel"] is None:
            continue
        channels.rows.append({"channel": str(r["channel"]), "spend": num(r["denominator"]),
                              "roi": num(r["value"]), "cac": cac_of.get(r["channel"]),
                              "ltv_to_cac": ratio_of.get(r["channel"])})
    section.tables.append(channels)
    _marketing_story(section, attribution, channels)
    return section


def _marketing_story(section: Section, attribution: Table, channels: Table) -> None:
    from funnelmetrics.attribution.report import SPECIAL_KEYS

    linear = [(r["linear"], -i) for i, r in enumerate(attribution.rows)
              if r["linear"] and r["channel"] not in SPECIAL_KEYS]  # not (no touch) …
    if linear:
        i = -max(linear)[1]
        section.sentences.append(Sentence(
            N_("{channel} earned the most credited revenue under the linear model "
               "({amount})."),
            {"channel": Ref("attribution", i, "channel"),
             "amount": Ref("attribution", i, "linear")}))
    spread = []
    for i, r in enumerate(attribution.rows):
        values = [(r[m], m) for m in MODELS if r[m] is not None]
        if values:
            low, high = min(values), max(values)
            spread.append((high[0] - low[0], i, low[1], high[1]))
    if spread and max(spread)[0] > 0:
        _, i, low, high = max(spread)
        section.sentences.append(Sentence(
            N_("The models disagree most on {channel}: from {low} ({low_model}) to {high} "
               "({high_model})."),
            {"channel": Ref("attribution", i, "channel"), "low": Ref("attribution", i, low),
             "low_model": Label(MODELS[low], "label"), "high": Ref("attribution", i, high),
             "high_model": Label(MODELS[high], "label")}))
    spent = [(r["roi"], i) for i, r in enumerate(channels.rows)
             if r["roi"] is not None and (r["spend"] or 0) > 0]
    if spent:
        _, i = min(spent)
        section.sentences.append(Sentence(
            N_("Watch {channel}: a return of {roi} on {spend} of spend."),
            {"channel": Ref("channels", i, "channel"), "roi": Ref("channels", i, "roi"),
             "spend": Ref("channels", i, "spend")}))
