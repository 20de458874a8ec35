"""Funnel metrics (SPEC §3): leads, stages reached, conversion, drop-off, time in stage, velocity."""

from __future__ import annotations

from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Text, Time, Unit
from funnelmetrics.compile.context import safe_div

LEADS_CREATED = Metric(
    kind=Kind.COUNT,
    id="leads_created",
    name=Text("Leads created", "Prospek dibuat", "Prospek dicipta"),
    description=Text(
        "Count of leads whose created_at falls in the period.",
        "Jumlah prospek yang created_at-nya jatuh dalam periode.",
        "Bilangan prospek yang created_at jatuh dalam tempoh."),
    unit=Unit.COUNT, higher_is_better=True, entity="leads",
    # every lead reaches the first stage at its created_at (SPEC §2): counted from the reach
    # rows, a batch answers it with the first stage's other measures in one aggregate
    measures={"leads": Measure("reach", Agg.COUNT, time=c.first_reach)},
    combine=c.value_of("leads"), formula="count(leads created in period)",
)

STAGE_REACHED = Metric(
    kind=Kind.COUNT,
    id="stage_reached",
    name=Text("Leads reaching a stage", "Prospek mencapai tahap", "Prospek mencapai peringkat"),
    description=Text(
        "Count of leads reaching the stage in the period, by their first event of that stage or a "
        "later one (cumulative mode).",
        "Jumlah prospek yang mencapai tahap dalam periode, menurut peristiwa pertama tahap itu "
        "atau tahap sesudahnya (mode kumulatif).",
        "Bilangan prospek yang mencapai peringkat dalam tempoh, mengikut peristiwa pertama "
        "peringkat itu atau peringkat selepasnya (mod kumulatif)."),
    unit=Unit.COUNT, higher_is_better=True, entity="leads", params=(c.STAGE, c.MODE),
    measures={"reached": Measure("reach", Agg.COUNT, time=c.reach_of("stage"))},
    combine=c.value_of("reached"), formula="count(leads first reaching stage in period)",
)

_COHORT = {
    "entered": Measure("reach", Agg.COUNT, time=c.reach_of("from_stage"), time_kind=Time.COHORT),
    "converted": Measure("reach", Agg.COUNT, time=c.reach_of("from_stage"), where=c.converted,
                         time_kind=Time.COHORT),
}
_CONVERSION_PARAMS = (c.FROM_STAGE, c.TO_STAGE, c.MODE, c.WINDOW)

STAGE_CONVERSION_RATE = Metric(
    kind=Kind.COHORT_CONVERSION,
    id="stage_conversion_rate",
    name=Text("Stage conversion rate", "Tingkat konversi tahap", "Kadar penukaran peringkat"),
    description=Text(
        "Of the leads that reached from_stage in the period, the share that reached to_stage "
        "within the conversion window (default 180 days).",
        "Dari prospek yang mencapai from_stage dalam periode, porsi yang mencapai to_stage dalam "
        "jendela konversi (bawaan 180 hari).",
        "Daripada prospek yang mencapai from_stage dalam tempoh, bahagian yang mencapai to_stage "
        "dalam tetingkap penukaran (lalai 180 hari)."),
    unit=Unit.RATIO, higher_is_better=True, entity="leads", time=Time.COHORT,
    params=_CONVERSION_PARAMS, measures=_COHORT, is_ratio=True,
    combine=c.ratio_of("converted", "entered"),
    formula="reached to_stage within window / reached from_stage in period",
)

LEAD_CONVERSION_RATE = Metric(
    kind=Kind.COHORT_CONVERSION,
    id="lead_conversion_rate",
    name=Text("Lead conversion rate", "Tingkat konversi prospek", "Kadar penukaran prospek"),
    description=Text(
        "Share of the period's new leads that were won within the conversion window "
        "(stage conversion from the funnel's first stage to its won stage).",
        "Porsi prospek baru periode yang dimenangkan dalam jendela konversi (konversi dari tahap "
        "pertama corong ke tahap menang).",
        "Bahagian prospek baharu tempoh yang dimenangi dalam tetingkap penukaran (penukaran dari "
        "peringkat pertama corong ke peringkat menang)."),
    unit=Unit.RATIO, higher_is_better=True, entity="leads", time=Time.COHORT,
    params=(c.MODE, c.WINDOW), measures=_COHORT, is_ratio=True,
    combine=c.ratio_of("converted", "entered"),
    formula="won within window / leads created in period",
    fixed={"from_stage": ":first", "to_stage": ":last"},
    benchmark=(0.01, 0.03),
)


def _drop_off(ctx: c.Context, cols: dict) -> dict:
    lost = cols["entered"] - cols["converted"]
    return {"value": safe_div(lost, cols["entered"]), "numerator": lost,
            "denominator": cols["entered"]}


STAGE_DROP_OFF = Metric(
    kind=Kind.COHORT_CONVERSION,
    id="stage_drop_off",
    name=Text("Stage drop-off", "Penurunan tahap", "Keciciran peringkat"),
    description=Text(
        "1 − stage conversion rate: the share of leads reaching from_stage that did not reach "
        "to_stage within the window.",
        "1 − tingkat konversi tahap: porsi prospek di from_stage yang tidak mencapai to_stage "
        "dalam jendela.",
        "1 − kadar penukaran peringkat: bahagian prospek di from_stage yang tidak mencapai "
        "to_stage dalam tetingkap."),
    unit=Unit.RATIO, higher_is_better=False, entity="leads", time=Time.COHORT,
    params=_CONVERSION_PARAMS, measures=_COHORT, is_ratio=True, combine=_drop_off,
    formula="1 − stage_conversion_rate",
)

TIME_IN_STAGE = Metric(
    kind=Kind.DURATION,
    id="time_in_stage",
    name=Text("Time in stage", "Waktu di tahap", "Masa di peringkat"),
    description=Text(
        "Days from reaching the stage to reaching the next stage the lead reached (the "
        "earliest later stage reached at or after it: never negative), for leads that reached "
        "the stage in the period and moved on; mean (stat=median|p90 for others).",
        "Hari dari mencapai tahap hingga mencapai tahap berikutnya yang dicapai (tahap "
        "sesudahnya yang paling awal dicapai pada atau setelahnya: tidak pernah negatif), untuk "
        "prospek yang mencapai tahap dalam periode dan berlanjut; rata-rata (stat=median|p90).",
        "Hari dari mencapai peringkat hingga peringkat seterusnya yang dicapai (peringkat "
        "kemudian yang paling awal dicapai pada atau selepasnya: tidak pernah negatif), bagi "
        "prospek yang mencapai peringkat dalam tempoh dan bergerak ke hadapan; purata "
        "(stat=median|p90)."),
    unit=Unit.DAYS, higher_is_better=False, entity="leads", params=(c.STAGE, c.STAT, c.MODE),
    measures={"days": Measure("reach", c.stat_agg, time=c.reach_of("stage"),
                              expr=c.duration_in(), where=c.moved_on_from())},
    combine=c.value_of("days"), formula="stat(next reached stage − stage), by entry period",
)


def _growth(ctx: c.Context, cols: dict) -> dict:
    previous = ctx.previous(cols["qualified"])
    change = cols["qualified"] - previous
    return {"value": safe_div(change, previous), "numerator": change, "denominator": previous}


LEAD_VELOCITY_RATE = Metric(
    kind=Kind.GROWTH,
    id="lead_velocity_rate",
    name=Text("Lead velocity rate", "Laju kecepatan prospek", "Kadar halaju prospek"),
    description=Text(
        "Growth of qualified leads (reaching the qualified stage, default sql) over the previous "
        "period: (this − last) / last.",
        "Pertumbuhan prospek terkualifikasi (mencapai tahap terkualifikasi, bawaan sql) "
        "dibanding periode sebelumnya: (ini − lalu) / lalu.",
        "Pertumbuhan prospek berkelayakan (mencapai peringkat berkelayakan, lalai sql) berbanding "
        "tempoh sebelumnya: (ini − lepas) / lepas."),
    unit=Unit.RATIO, higher_is_better=True, entity="leads", params=(c.QUALIFIED_STAGE, c.MODE),
    measures={"qualified": Measure("reach", Agg.COUNT, time=c.reach_of("stage"))},
    combine=_growth, is_ratio=True, lag_periods=1,
    formula="(qualified this period − last period) / last period",
)

METRICS = [LEADS_CREATED, STAGE_REACHED, STAGE_CONVERSION_RATE, LEAD_CONVERSION_RATE,
           STAGE_DROP_OFF, TIME_IN_STAGE, LEAD_VELOCITY_RATE]
