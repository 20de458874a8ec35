"""Deal metrics (SPEC §3): win rate, deal size, cycle, pipeline, coverage, velocity, quota."""

from __future__ import annotations

from typing import Any

import ibis

from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Text, Time, Unit
from funnelmetrics.compile.context import safe_div


def _known(ctx: c.Context, t: ibis.Table) -> ibis.Value:
    """The deal's amount is known (an opportunity without one is kept, amount null)."""
    return t.amount.notnull()


def _won_known(ctx: c.Context, t: ibis.Table) -> ibis.Value:
    return c.is_won(ctx, t) & _known(ctx, t)


# Amount metrics leave unknown amounts out; an average divides by the deals with a known amount.
_WON_AMOUNT = Measure("opportunities", Agg.SUM, time="closed_at", expr="amount",
                      where=_won_known)
_WON_COUNT = Measure("opportunities", Agg.COUNT, time="closed_at", where=c.is_won)
_WON_KNOWN = Measure("opportunities", Agg.COUNT, time="closed_at", where=_won_known)
_QUOTA = Measure("quotas", Agg.SUM, time="period_start", expr="amount")


def _left_out(combine: Any, every: str, known: str, what: str) -> Any:
    """`combine` with a note saying how many deals an unknown amount left out (issue 13:
    unknown is not zero, and the answer says so)."""
    def with_note(ctx: c.Context, m: dict) -> dict:
        out = dict(combine(ctx, m))
        n = (m[every] - m[known]).cast("int64")
        out["note"] = ibis.ifelse(n > 0, n.cast("string") + f" {what} with an unknown amount "
                                  "left out", ibis.null("string"))
        return out
    return with_note

WIN_RATE = Metric(
    kind=Kind.RATIO,
    id="win_rate",
    name=Text("Win rate", "Tingkat kemenangan", "Kadar kemenangan"),
    description=Text(
        "Of the opportunities closed in the period, the share won: won / (won + lost).",
        "Dari peluang yang ditutup dalam periode, porsi yang dimenangkan: menang / (menang + "
        "kalah).",
        "Daripada peluang yang ditutup dalam tempoh, bahagian yang dimenangi: menang / (menang + "
        "kalah)."),
    unit=Unit.RATIO, higher_is_better=True, entity="opportunities", group="deals",
    measures={"won": Measure("deals", Agg.COUNT, time="closed_at", where=c.is_won),
              "closed": Measure("deals", Agg.COUNT, time="closed_at", where=c.is_closed)},
    combine=c.ratio_of("won", "closed"), is_ratio=True, formula="won / (won + lost)",
    benchmark=(0.20, 0.30),
)

AVERAGE_DEAL_SIZE = Metric(
    kind=Kind.RATIO,
    id="average_deal_size",
    name=Text("Average deal size", "Rata-rata nilai transaksi", "Purata saiz urus niaga"),
    description=Text(
        "Won amount divided by the number of opportunities won in the period.",
        "Nilai kemenangan dibagi jumlah peluang yang dimenangkan dalam periode.",
        "Jumlah dimenangi dibahagi bilangan peluang yang dimenangi dalam tempoh."),
    unit=Unit.CURRENCY, higher_is_better=True, entity="opportunities", group="deals",
    measures={"won_amount": _WON_AMOUNT, "won": _WON_KNOWN, "won_all": _WON_COUNT},
    combine=_left_out(c.ratio_of("won_amount", "won"), "won_all", "won", "won deal(s)"),
    is_ratio=True,
    formula="sum(amount) / count(won with an amount)",
)

SALES_CYCLE_DAYS = Metric(
    kind=Kind.DURATION,
    id="sales_cycle_days",
    name=Text("Sales cycle (days)", "Siklus penjualan (hari)", "Kitaran jualan (hari)"),
    description=Text(
        "For opportunities won in the period, days from the opportunity's created_at (or the "
        "lead's, with from=lead) to closed_at; mean (stat=median|p90 for others).",
        "Untuk peluang yang dimenangkan dalam periode, hari dari created_at peluang (atau "
        "prospek, dengan from=lead) hingga closed_at; rata-rata (stat=median|p90).",
        "Bagi peluang yang dimenangi dalam tempoh, hari dari created_at peluang (atau prospek, "
        "dengan from=lead) hingga closed_at; purata (stat=median|p90)."),
    unit=Unit.DAYS, higher_is_better=False, entity="opportunities", group="deals",
    params=(c.STAT, c.CYCLE_FROM),
    measures={"days": Measure(c.cycle_entity, c.stat_agg, time="closed_at", expr=c.cycle_days,
                              where=c.is_won)},
    combine=c.value_of("days"), formula="stat(closed_at − created_at) over won deals",
)

_OPEN_AMOUNT = Measure("opportunities", Agg.SUM, expr=c.deal_amount, time_kind=Time.SNAPSHOT,
                       active=c.open_at)
_OPEN = Measure("opportunities", Agg.COUNT, time_kind=Time.SNAPSHOT, active=c.open_at)
_OPEN_KNOWN = Measure("opportunities", Agg.COUNT, time_kind=Time.SNAPSHOT, active=c.open_at,
                      where=_known)


def _pipeline(ctx: c.Context, m: dict) -> dict:
    """Open deals whose amounts are all unknown have no pipeline value (null, never 0); no
    open deal at all is a pipeline of 0."""
    unknown = (m["open"] > 0) & (m["open_known"] == 0)
    return {"value": ibis.ifelse(unknown, ibis.null("float64"),
                                 m["open_amount"].cast("float64"))}


_pipeline_noted = _left_out(_pipeline, "open", "open_known", "open deal(s)")


_PIPELINE_TEXT = dict(
    unit=Unit.CURRENCY, higher_is_better=True, entity="opportunities", group="deals",
    time=Time.SNAPSHOT,
    measures={"open_amount": _OPEN_AMOUNT, "open": _OPEN, "open_known": _OPEN_KNOWN},
    combine=_pipeline_noted,
)

PIPELINE_VALUE = Metric(
    kind=Kind.SNAPSHOT,
    id="pipeline_value",
    name=Text("Pipeline value", "Nilai pipeline", "Nilai saluran jualan"),
    description=Text(
        "Sum of the amounts of opportunities open at the period's end (weighted=true multiplies "
        "each by its probability).",
        "Jumlah nilai peluang yang masih terbuka di akhir periode (weighted=true mengalikan "
        "masing-masing dengan probabilitasnya).",
        "Jumlah nilai peluang yang masih terbuka pada akhir tempoh (weighted=true mendarab "
        "setiap satu dengan kebarangkaliannya)."),
    params=(c.WEIGHTED,), formula="sum(amount) of deals open at period end", **_PIPELINE_TEXT,
)

WEIGHTED_PIPELINE_VALUE = Metric(
    kind=Kind.SNAPSHOT,
    id="weighted_pipeline_value",
    name=Text("Weighted pipeline value", "Nilai pipeline berbobot",
              "Nilai saluran jualan berwajaran"),
    description=Text(
        "Sum of amount × probability of opportunities open at the period's end.",
        "Jumlah nilai × probabilitas peluang yang terbuka di akhir periode.",
        "Jumlah nilai × kebarangkalian peluang yang terbuka pada akhir tempoh."),
    formula="sum(amount × probability) of deals open at period end",
    fixed={"weighted": True}, **_PIPELINE_TEXT,
)

def _coverage(m: dict) -> dict:
    """Without any quota for the period, or with the quota already met (nothing left to win),
    there is nothing to cover: no data (null), never a negative coverage."""
    left = (m["quota"] - m["won_amount"]).cast("float64")
    to_win = ibis.ifelse((m["quotas"] == 0) | (left <= 0), ibis.null("float64"), left)
    return {"value": safe_div(m["open_amount"], to_win), "numerator": m["open_amount"],
            "denominator": to_win}


PIPELINE_COVERAGE = Metric(
    kind=Kind.RATIO,
    id="pipeline_coverage",
    name=Text("Pipeline coverage", "Cakupan pipeline", "Liputan saluran jualan"),
    description=Text(
        "Open pipeline expected to close in the period divided by the quota still to win "
        "(quota − won amount so far in the period); no data for a period without a quota or "
        "with the quota already met.",
        "Pipeline terbuka yang diharapkan ditutup dalam periode dibagi sisa kuota (kuota − "
        "nilai menang sejauh ini dalam periode); tanpa data untuk periode tanpa kuota atau yang "
        "kuotanya sudah tercapai.",
        "Saluran jualan terbuka yang dijangka ditutup dalam tempoh dibahagi baki kuota (kuota − "
        "jumlah dimenangi setakat ini dalam tempoh); tiada data bagi tempoh tanpa kuota atau "
        "yang kuotanya sudah dicapai."),
    unit=Unit.RATIO, higher_is_better=True, entity="opportunities", group="deals",
    measures={"open_amount": Measure("opportunities", Agg.SUM, time="expected_close_at",
                                     expr="amount", where=c.is_open_now),
              "quota": _QUOTA, "quotas": Measure("quotas", Agg.COUNT, time="period_start"),
              "won_amount": _WON_AMOUNT},
    combine=lambda ctx, m: _coverage(m),
    is_ratio=True, formula="open pipeline expected to close in period / (quota − won so far)",
    benchmark=(3.0, 4.0),
)


def _velocity(ctx: c.Context, m: dict) -> dict:
    # win_rate (every closed deal) × average_deal_size (won deals with a known amount)
    per_deal = ibis.ifelse(m["won"] == 0, safe_div(m["won_amount"], m["closed"]),
                           safe_div(m["won"], m["closed"])
                           * safe_div(m["won_amount"], m["won_known"]))
    numerator = m["open_count"] * per_deal
    return {"value": safe_div(numerator, m["cycle"]), "numerator": numerator,
            "denominator": m["cycle"]}


SALES_VELOCITY = Metric(
    kind=Kind.RATIO,
    id="sales_velocity",
    name=Text("Sales velocity", "Kecepatan penjualan", "Halaju jualan"),
    description=Text(
        "Open opportunities at the period's end × win rate × average deal size / mean sales "
        "cycle days: revenue the pipeline yields per day.",
        "Peluang terbuka di akhir periode × tingkat kemenangan × rata-rata nilai transaksi / "
        "rata-rata siklus penjualan (hari): pendapatan per hari.",
        "Peluang terbuka pada akhir tempoh × kadar kemenangan × purata saiz urus niaga / purata "
        "kitaran jualan (hari): hasil sehari."),
    unit=Unit.CURRENCY_PER_DAY, higher_is_better=True, entity="opportunities", group="deals",
    measures={"open_count": Measure("opportunities", Agg.COUNT, time_kind=Time.SNAPSHOT,
                                    active=c.open_at),
              "won_amount": _WON_AMOUNT, "won": _WON_COUNT, "won_known": _WON_KNOWN,
              "closed": Measure("opportunities", Agg.COUNT, time="closed_at", where=c.is_closed),
              "cycle": Measure("opportunities", Agg.MEAN, time="closed_at",
                               expr=lambda ctx, t: c.days_between(t.created_at, t.closed_at),
                               where=c.is_won)},
    combine=_velocity, is_ratio=True,
    formula="open deals × win_rate × average_deal_size / mean sales_cycle_days",
)

REVENUE_PER_LEAD = Metric(
    kind=Kind.RATIO,
    id="revenue_per_lead",
    name=Text("Revenue per lead", "Pendapatan per prospek", "Hasil setiap prospek"),
    description=Text(
        "Won amount in the period divided by the leads created in the period.",
        "Nilai kemenangan dalam periode dibagi prospek yang dibuat dalam periode.",
        "Jumlah dimenangi dalam tempoh dibahagi prospek yang dicipta dalam tempoh."),
    unit=Unit.CURRENCY, higher_is_better=True, entity="leads", group="deals",
    measures={"won_amount": _WON_AMOUNT,
              "leads": Measure("leads", Agg.COUNT, time="created_at")},
    combine=c.ratio_of("won_amount", "leads"), is_ratio=True,
    formula="won amount / leads created",
)

QUOTA_ATTAINMENT = Metric(
    kind=Kind.RATIO,
    id="quota_attainment",
    name=Text("Quota attainment", "Pencapaian kuota", "Pencapaian kuota"),
    description=Text(
        "Won amount in the period divided by the quota for the period (quotas starting in it).",
        "Nilai kemenangan dalam periode dibagi kuota periode (kuota yang dimulai di dalamnya).",
        "Jumlah dimenangi dalam tempoh dibahagi kuota tempoh (kuota yang bermula di dalamnya)."),
    unit=Unit.RATIO, higher_is_better=True, entity="quotas", group="team",
    measures={"won_amount": _WON_AMOUNT, "quota": _QUOTA},
    combine=c.ratio_of("won_amount", "quota"), is_ratio=True, formula="won amount / quota",
    benchmark=(0.8, 1.0),
)


def _per_won_deal(expr: object, metric_id: str, name: Text, description: Text,
                  formula: str) -> Metric:
    return Metric(
        id=metric_id, kind=Kind.RATIO, name=name, description=description, unit=Unit.CURRENCY,
        higher_is_better=True, entity="opportunities", group="deals",
        measures={"total": Measure("opportunities", Agg.SUM, time="closed_at", expr=expr,
                                   where=_won_known), "won": _WON_KNOWN, "won_all": _WON_COUNT},
        combine=_left_out(c.ratio_of("total", "won"), "won_all", "won", "won deal(s)"),
        is_ratio=True, formula=formula,
    )


ACV = _per_won_deal(
    c.acv, "acv", Text("Annual contract value", "Nilai kontrak tahunan", "Nilai kontrak tahunan"),
    Text("Mean over deals won in the period of amount / max(contract_months, 12) × 12 "
         "(numerator: total ACV booked).",
         "Rata-rata atas transaksi yang dimenangkan dalam periode dari nilai / "
         "max(contract_months, 12) × 12 (pembilang: total ACV).",
         "Purata bagi urus niaga yang dimenangi dalam tempoh bagi nilai / max(contract_months, "
         "12) × 12 (pengangka: jumlah ACV)."),
    "sum(amount / max(contract_months, 12) × 12) / count(won)")

TCV = _per_won_deal(
    "amount", "tcv", Text("Total contract value", "Nilai kontrak total", "Nilai kontrak keseluruhan"),
    Text("Mean total contract value (the amount) over deals won in the period (numerator: total "
         "TCV booked).",
         "Rata-rata nilai kontrak total (nilai transaksi) atas transaksi yang dimenangkan dalam "
         "periode (pembilang: total TCV).",
         "Purata nilai kontrak keseluruhan (nilai urus niaga) bagi urus niaga yang dimenangi "
         "dalam tempoh (pengangka: jumlah TCV)."),
    "sum(amount) / count(won)")

METRICS = [WIN_RATE, AVERAGE_DEAL_SIZE, SALES_CYCLE_DAYS, PIPELINE_VALUE,
           WEIGHTED_PIPELINE_VALUE, PIPELINE_COVERAGE, SALES_VELOCITY, REVENUE_PER_LEAD,
           QUOTA_ATTAINMENT, ACV, TCV]
