"""Product-led metrics (SPEC §3): trial-to-paid and activation rates, engagement score.

The two rates are stage conversions of the product-led funnel (`signup → activated → trial →
paid` by default, config.funnel("product")): the cohort measures of `stage_conversion_rate` with
fixed stages. The engagement score is per account and period (`funnelmetrics.revenue.engagement`).
"""

from __future__ import annotations

from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Text, Time, Unit
from funnelmetrics.revenue import engagement as _engagement  # noqa: F401  (account_engagement)
from funnelmetrics.revenue.mrr import same_period

_COHORT = {
    "entered": Measure("reach", Agg.COUNT, time=c.reach_of("from_stage"), time_kind=Time.COHORT),
    "converted": Measure("reach", Agg.COUNT, time=c.reach_of("from_stage"), where=c.converted,
                         time_kind=Time.COHORT),
}


def _conversion(metric_id: str, from_stage: str, to_stage: str, name: Text,
                description: Text) -> Metric:
    return Metric(
        id=metric_id, kind=Kind.COHORT_CONVERSION, name=name, description=description, unit=Unit.RATIO,
        higher_is_better=True, entity="leads", time=Time.COHORT, params=(c.MODE, c.WINDOW),
        measures=_COHORT, combine=c.ratio_of("converted", "entered"), is_ratio=True,
        group="product", formula=f"reached {to_stage} within window / reached {from_stage} in "
        "period", fixed={"from_stage": from_stage, "to_stage": to_stage},
    )


TRIAL_TO_PAID_RATE = _conversion(
    "trial_to_paid_rate", "trial", "paid",
    Text("Trial-to-paid rate", "Konversi uji coba ke berbayar",
         "Kadar penukaran percubaan kepada berbayar"),
    Text("Of the leads that started a trial in the period, the share that reached paid within "
         "the conversion window (product-led funnel: trial → paid).",
         "Dari prospek yang memulai uji coba dalam periode, porsi yang mencapai berbayar dalam "
         "jendela konversi (corong product-led: trial → paid).",
         "Daripada prospek yang memulakan percubaan dalam tempoh, bahagian yang mencapai "
         "berbayar dalam tetingkap penukaran (corong dipacu produk: trial → paid)."))

ACTIVATION_RATE = _conversion(
    "activation_rate", "signup", "activated",
    Text("Activation rate", "Tingkat aktivasi", "Kadar pengaktifan"),
    Text("Of the sign-ups of the period, the share that reached activated within the conversion "
         "window (product-led funnel: signup → activated).",
         "Dari pendaftaran periode, porsi yang mencapai teraktivasi dalam jendela konversi "
         "(corong product-led: signup → activated).",
         "Daripada pendaftaran tempoh, bahagian yang mencapai diaktifkan dalam tetingkap "
         "penukaran (corong dipacu produk: signup → activated)."))

ENGAGEMENT_SCORE = Metric(
    kind=Kind.SCORE,
    id="engagement_score",
    name=Text("Engagement score", "Skor keterlibatan", "Skor penglibatan"),
    description=Text(
        "Per account and period: weighted events (weight, default 1) scaled 0–100 by cume_dist "
        "across the period's accounts (those with events or paying at its end; no events → 0). "
        "by=account_id gives each account's score; otherwise the mean score.",
        "Per akun dan periode: peristiwa berbobot (weight, bawaan 1) diskalakan 0–100 dengan "
        "cume_dist di antara akun periode itu (yang punya peristiwa atau membayar di akhir; tanpa "
        "peristiwa → 0). by=account_id memberi skor tiap akun; selain itu rata-ratanya.",
        "Setiap akaun dan tempoh: peristiwa berwajaran (weight, lalai 1) diskalakan 0–100 dengan "
        "cume_dist antara akaun tempoh itu (yang ada peristiwa atau membayar pada akhirnya; "
        "tiada peristiwa → 0). by=account_id memberi skor setiap akaun; selainnya puratanya."),
    unit=Unit.SCORE, higher_is_better=True, entity="accounts", group="product",
    measures={"score": Measure("account_engagement", Agg.MEAN, expr="score",
                               time_kind=Time.SNAPSHOT, active=same_period)},
    combine=c.value_of("score"), formula="mean over accounts of 100 × cume_dist(weighted events)",
)

METRICS = [TRIAL_TO_PAID_RATE, ACTIVATION_RATE, ENGAGEMENT_SCORE]
