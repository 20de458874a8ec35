"""SaaS revenue metrics from subscriptions (SPEC §3): MRR, its movements, churn, retention, unit
economics.

`mrr`/`arr` sum the subscriptions active at each period's end. Every other entry reads the
`account_mrr` entity (`funnelmetrics.revenue.mrr`): per account whose MRR can change in a period,
MRR at the previous period's end (`mrr_start`) against this period's end (`mrr_end`), classified as
new, expansion, reactivation, contraction or churn. MRR and paying accounts at a period's start
and end, over all accounts, are running totals: the base at the first period's start plus every
movement up to the period (`mrr_end_of`, `active_start_of`…). Movements are per account, so they
split by account attributes (account_id, a column of accounts, the acquisition channel /
campaign_id), not by plan. ltv and ltv_to_cac divide by a churn rate on a monthly basis at every
grain, pooled over the period's months, from the `churn_months` entity
(`funnelmetrics.revenue.monthly_churn`).
"""

from __future__ import annotations

from typing import Any

import ibis

from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.marketing import CAC_MEASURES, cac_of
from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Text, Time, Unit
from funnelmetrics.compile.context import Context, safe_div
from funnelmetrics.revenue import monthly_churn as _monthly  # noqa: F401  (churn_months)
from funnelmetrics.revenue.mrr import DIGITS, active_at, same_period

ACCOUNTS = "accounts"  # the dimensions of per-account metrics


def _account(column: str) -> Measure:
    """A column of the per-account MRR rows, summed over the accounts of each period."""
    return Measure("account_mrr", Agg.SUM, expr=column, time_kind=Time.SNAPSHOT,
                   active=same_period)


NEW, EXPANSION, REACTIVATION = _account("new"), _account("expansion"), _account("reactivation")
CONTRACTION, CHURN = _account("contraction"), _account("churn")
CHURNED, STARTED = _account("churned"), _account("started")
BASE_MRR, BASE_ACTIVE = _account("base_mrr"), _account("base_active")
_MOVEMENTS = {"new": NEW, "expansion": EXPANSION, "reactivation": REACTIVATION,
              "contraction": CONTRACTION, "churn": CHURN}
# What MRR and paying accounts at a period's start and end are computed from.
TOTALS = {**_MOVEMENTS, "base_mrr": BASE_MRR, "base_active": BASE_ACTIVE, "started": STARTED,
          "churned": CHURNED}
# Churn on a monthly basis, pooled over a period's months (funnelmetrics.revenue.monthly_churn).
MONTHLY_CHURN = {"month_churned": Measure("churn_months", Agg.SUM, expr="churned",
                                          time_kind=Time.SNAPSHOT, active=same_period),
                 "month_active_start": Measure("churn_months", Agg.SUM, expr="active_start",
                                               time_kind=Time.SNAPSHOT, active=same_period)}
SUBSCRIPTION_MRR = Measure("subscriptions", Agg.SUM, expr="mrr", time_kind=Time.SNAPSHOT,
                           active=active_at)


def _saas(metric_id: str, name: Text, description: Text, unit: Unit, higher: bool,
          measures: dict[str, Measure], combine: Any, formula: str, *, is_ratio: bool = False,
          time: Time = Time.PERIOD, entity: str = ACCOUNTS,
          benchmark: tuple[float, float] | None = None) -> Metric:
    # every revenue metric is a ratio of its measures, a state at the period's end (MRR,
    # ARR) or a sum of per-account movements
    kind = Kind.RATIO if is_ratio else Kind.SNAPSHOT if time is Time.SNAPSHOT else Kind.SUM
    return Metric(id=metric_id, kind=kind, name=name, description=description, unit=unit,
                  higher_is_better=higher, measures=measures, combine=combine, entity=entity,
                  time=time, formula=formula, is_ratio=is_ratio, group="revenue",
                  benchmark=benchmark)


def _ratio(num: Any, den: Any) -> dict[str, Any]:
    return {"value": safe_div(num, den), "numerator": num, "denominator": den}


def _margin(ctx: Context) -> ibis.Value:
    return ibis.literal(float(ctx.config.gross_margin))


def running_total(ctx: Context, col: ibis.Value) -> ibis.Value:
    """`col` summed over this and every earlier period of the frame (same dimension values)."""
    frame = ctx.frame
    assert frame is not None
    w = ibis.cumulative_window(group_by=[frame[d] for d in ctx.dims], order_by=frame.period_start)
    return col.sum().over(w)


def net_new_of(cols: dict[str, Any]) -> ibis.Value:
    """new + expansion + reactivation − contraction − churn: MRR at the end − at the start."""
    return (cols["new"] + cols["expansion"] + cols["reactivation"] - cols["contraction"]
            - cols["churn"])


def mrr_end_of(ctx: Context, cols: dict[str, Any]) -> ibis.Value:
    """MRR at the period's end over all accounts: the base plus every net movement so far."""
    return running_total(ctx, cols["base_mrr"] + net_new_of(cols)).round(DIGITS)


def mrr_start_of(ctx: Context, cols: dict[str, Any]) -> ibis.Value:
    """MRR at the period's start (the previous period's end)."""
    return (mrr_end_of(ctx, cols) - net_new_of(cols)).round(DIGITS)


def active_end_of(ctx: Context, cols: dict[str, Any]) -> ibis.Value:
    """Accounts paying at the period's end: the base plus every start, less every churn, so far."""
    return running_total(ctx, cols["base_active"] + cols["started"] - cols["churned"])


def active_start_of(ctx: Context, cols: dict[str, Any]) -> ibis.Value:
    """Accounts paying at the period's start."""
    return active_end_of(ctx, cols) - cols["started"] + cols["churned"]


def arpa_of(ctx: Context, cols: dict[str, Any]) -> ibis.Value:
    """MRR at the period's end / accounts paying then (SPEC §3 arpa)."""
    return safe_div(mrr_end_of(ctx, cols), active_end_of(ctx, cols))


def monthly_churn_rate_of(cols: dict[str, Any]) -> ibis.Value:
    """The period's monthly customer churn rate: accounts churned in its months / accounts
    active at each of its months' starts, both summed over the months (SPEC §3 ltv)."""
    return safe_div(cols["month_churned"], cols["month_active_start"])


def ltv_of(ctx: Context, cols: dict[str, Any]) -> ibis.Value:
    """Monthly arpa × gross margin / monthly customer churn rate; null when nobody churned in
    the period's months, or it has none (a week, a day) (SPEC §3 ltv)."""
    return safe_div(arpa_of(ctx, cols) * _margin(ctx), monthly_churn_rate_of(cols))


def _over_start(num: Any) -> Any:
    """A combine rule: `num(cols)` / MRR at the period's start."""
    return lambda ctx, m: _ratio(num(m), mrr_start_of(ctx, m))


MRR = _saas(
    "mrr", Text("MRR", "MRR (pendapatan berulang bulanan)", "MRR (hasil berulang bulanan)"),
    Text("Monthly recurring revenue: sum of the mrr of subscriptions active at the period's end "
         "(started before the next period, not ended before it).",
         "Pendapatan berulang bulanan: jumlah mrr langganan yang aktif di akhir periode (mulai "
         "sebelum periode berikutnya, belum berakhir sebelumnya).",
         "Hasil berulang bulanan: jumlah mrr langganan yang aktif pada akhir tempoh (bermula "
         "sebelum tempoh seterusnya, belum tamat sebelumnya)."),
    Unit.CURRENCY, True, {"mrr": SUBSCRIPTION_MRR}, c.value_of("mrr"),
    "sum(mrr) of subscriptions active at period end", time=Time.SNAPSHOT, entity="subscriptions")

ARR = _saas(
    "arr", Text("ARR", "ARR (pendapatan berulang tahunan)", "ARR (hasil berulang tahunan)"),
    Text("Annual recurring revenue: 12 × MRR at the period's end.",
         "Pendapatan berulang tahunan: 12 × MRR di akhir periode.",
         "Hasil berulang tahunan: 12 × MRR pada akhir tempoh."),
    Unit.CURRENCY, True, {"mrr": SUBSCRIPTION_MRR},
    lambda ctx, m: {"value": m["mrr"] * 12}, "12 × mrr", time=Time.SNAPSHOT,
    entity="subscriptions")


def _movement(metric_id: str, column: str, measure: Measure, higher: bool, name: Text,
              description: Text, formula: str) -> Metric:
    return _saas(metric_id, name, description, Unit.CURRENCY, higher, {column: measure},
                 c.value_of(column), formula)


NEW_MRR = _movement(
    "new_mrr", "new", NEW, True, Text("New MRR", "MRR baru", "MRR baharu"),
    Text("MRR of accounts with none at the previous period's end and some at this period's end, "
         "that never had MRR at an earlier period's end.",
         "MRR akun yang tidak punya MRR di akhir periode sebelumnya dan punya di akhir periode "
         "ini, serta belum pernah punya MRR di akhir periode mana pun sebelumnya.",
         "MRR akaun yang tiada MRR pada akhir tempoh sebelumnya dan ada pada akhir tempoh ini, "
         "serta tidak pernah ada MRR pada akhir mana-mana tempoh lebih awal."),
    "Σ mrr_end over accounts 0 → x, first time")

REACTIVATION_MRR = _movement(
    "reactivation_mrr", "reactivation", REACTIVATION, True,
    Text("Reactivation MRR", "MRR reaktivasi", "MRR pengaktifan semula"),
    Text("MRR of accounts with none at the previous period's end and some at this period's end, "
         "that had MRR at an earlier period's end (returning customers).",
         "MRR akun yang tidak punya MRR di akhir periode sebelumnya dan punya di akhir periode "
         "ini, yang pernah punya MRR di akhir periode lebih awal (pelanggan yang kembali).",
         "MRR akaun yang tiada MRR pada akhir tempoh sebelumnya dan ada pada akhir tempoh ini, "
         "yang pernah ada MRR pada akhir tempoh lebih awal (pelanggan yang kembali)."),
    "Σ mrr_end over accounts 0 → x that had MRR before")

EXPANSION_MRR = _movement(
    "expansion_mrr", "expansion", EXPANSION, True,
    Text("Expansion MRR", "MRR ekspansi", "MRR pengembangan"),
    Text("Increase of MRR from the previous period's end to this period's end, over accounts "
         "that had MRR at both and more at the end (net per account: an upgrade and a downgrade "
         "in one period count once, as their net effect).",
         "Kenaikan MRR dari akhir periode sebelumnya ke akhir periode ini, atas akun yang punya "
         "MRR di keduanya dan lebih besar di akhir (bersih per akun).",
         "Kenaikan MRR dari akhir tempoh sebelumnya ke akhir tempoh ini, bagi akaun yang ada MRR "
         "pada kedua-duanya dan lebih besar pada akhirnya (bersih setiap akaun)."),
    "Σ (end − start) over accounts x → y, y > x > 0")

CONTRACTION_MRR = _movement(
    "contraction_mrr", "contraction", CONTRACTION, False,
    Text("Contraction MRR", "MRR kontraksi", "MRR penguncupan"),
    Text("Decrease of MRR from the previous period's end to this period's end, over accounts "
         "that still have some MRR at the end (net per account).",
         "Penurunan MRR dari akhir periode sebelumnya ke akhir periode ini, atas akun yang masih "
         "punya MRR di akhir (bersih per akun).",
         "Penurunan MRR dari akhir tempoh sebelumnya ke akhir tempoh ini, bagi akaun yang masih "
         "ada MRR pada akhirnya (bersih setiap akaun)."),
    "Σ (start − end) over accounts x → y, x > y > 0")

CHURNED_MRR = _movement(
    "churned_mrr", "churn", CHURN, False,
    Text("Churned MRR", "MRR hilang (churn)", "MRR hilang (churn)"),
    Text("MRR at the previous period's end of accounts that have none at this period's end.",
         "MRR di akhir periode sebelumnya dari akun yang tidak punya MRR di akhir periode ini.",
         "MRR pada akhir tempoh sebelumnya bagi akaun yang tiada MRR pada akhir tempoh ini."),
    "Σ mrr_start over accounts x → 0")


def _net_new(ctx: Context, m: dict[str, Any]) -> dict[str, Any]:
    return {"value": net_new_of(m)}


NET_NEW_MRR = _saas(
    "net_new_mrr", Text("Net new MRR", "MRR baru bersih", "MRR baharu bersih"),
    Text("new + expansion + reactivation − contraction − churned MRR: the change of MRR over the "
         "period.",
         "MRR baru + ekspansi + reaktivasi − kontraksi − churn: perubahan MRR selama periode.",
         "MRR baharu + pengembangan + pengaktifan semula − penguncupan − churn: perubahan MRR "
         "sepanjang tempoh."),
    Unit.CURRENCY, True, _MOVEMENTS, _net_new,
    "new + expansion + reactivation − contraction − churn")

CUSTOMER_CHURN_RATE = _saas(
    "customer_churn_rate",
    Text("Customer churn rate", "Tingkat churn pelanggan", "Kadar churn pelanggan"),
    Text("Accounts that had MRR at the period's start (the previous period's end) and none at "
         "its end, divided by the accounts with MRR at its start.",
         "Akun yang punya MRR di awal periode (akhir periode sebelumnya) dan tidak punya di "
         "akhirnya, dibagi akun yang punya MRR di awal periode.",
         "Akaun yang ada MRR pada awal tempoh (akhir tempoh sebelumnya) dan tiada pada akhirnya, "
         "dibahagi akaun yang ada MRR pada awal tempoh."),
    Unit.RATIO, False, TOTALS,
    lambda ctx, m: _ratio(m["churned"], active_start_of(ctx, m)),
    "accounts churned / accounts active at start", is_ratio=True)

GROSS_MRR_CHURN_RATE = _saas(
    "gross_mrr_churn_rate",
    Text("Gross MRR churn rate", "Tingkat churn MRR kotor", "Kadar churn MRR kasar"),
    Text("(Churned + contraction MRR) / MRR at the period's start.",
         "(MRR churn + kontraksi) / MRR di awal periode.",
         "(MRR churn + penguncupan) / MRR pada awal tempoh."),
    Unit.RATIO, False, TOTALS, _over_start(lambda m: m["churn"] + m["contraction"]),
    "(churned + contraction) / start MRR", is_ratio=True)

NET_REVENUE_RETENTION = _saas(
    "net_revenue_retention",
    Text("Net revenue retention", "Retensi pendapatan bersih", "Pengekalan hasil bersih"),
    Text("(Start MRR + expansion − contraction − churn of the accounts active at the start) / "
         "start MRR; new and reactivated accounts are left out.",
         "(MRR awal + ekspansi − kontraksi − churn dari akun yang aktif di awal) / MRR awal; "
         "akun baru dan yang kembali tidak dihitung.",
         "(MRR awal + pengembangan − penguncupan − churn bagi akaun yang aktif pada awal) / MRR "
         "awal; akaun baharu dan yang kembali tidak dikira."),
    Unit.RATIO, True, TOTALS,
    lambda ctx, m: _ratio(mrr_start_of(ctx, m) + m["expansion"] - m["contraction"] - m["churn"],
                          mrr_start_of(ctx, m)),
    "(start + expansion − contraction − churn) / start", is_ratio=True, benchmark=(1.0, 1.2))

NET_MRR_CHURN_RATE = _saas(
    "net_mrr_churn_rate",
    Text("Net MRR churn rate", "Tingkat churn MRR bersih", "Kadar churn MRR bersih"),
    Text("(Churned + contraction − expansion − reactivation MRR) / MRR at the period's start; "
         "negative means net expansion.",
         "(MRR churn + kontraksi − ekspansi − reaktivasi) / MRR di awal periode; negatif berarti "
         "ekspansi bersih.",
         "(MRR churn + penguncupan − pengembangan − pengaktifan semula) / MRR pada awal tempoh; "
         "negatif bermakna pengembangan bersih."),
    Unit.RATIO, False, TOTALS,
    _over_start(lambda m: m["churn"] + m["contraction"] - m["expansion"] - m["reactivation"]),
    "(churned + contraction − expansion − reactivation) / start MRR", is_ratio=True)

QUICK_RATIO = _saas(
    "quick_ratio", Text("SaaS quick ratio", "Quick ratio SaaS", "Nisbah pantas SaaS"),
    Text("(New + reactivation + expansion MRR) / (churned + contraction MRR): MRR gained per unit "
         "lost; null when nothing was lost.",
         "(MRR baru + reaktivasi + ekspansi) / (MRR churn + kontraksi): MRR yang didapat per "
         "satuan yang hilang; kosong bila tidak ada yang hilang.",
         "(MRR baharu + pengaktifan semula + pengembangan) / (MRR churn + penguncupan): MRR "
         "diperoleh bagi setiap unit yang hilang; kosong jika tiada yang hilang."),
    Unit.RATIO, True, _MOVEMENTS,
    lambda ctx, m: _ratio(m["new"] + m["reactivation"] + m["expansion"],
                          m["churn"] + m["contraction"]),
    "(new + reactivation + expansion) / (churned + contraction)", is_ratio=True,
    benchmark=(1.0, 4.0))

ARPA = _saas(
    "arpa", Text("Average revenue per account (ARPA)", "Pendapatan rata-rata per akun (ARPA)",
                 "Purata hasil setiap akaun (ARPA)"),
    Text("MRR at the period's end divided by the accounts with MRR then.",
         "MRR di akhir periode dibagi jumlah akun yang punya MRR saat itu.",
         "MRR pada akhir tempoh dibahagi bilangan akaun yang ada MRR ketika itu."),
    Unit.CURRENCY, True, TOTALS,
    lambda ctx, m: _ratio(mrr_end_of(ctx, m), active_end_of(ctx, m)),
    "mrr / active accounts", is_ratio=True, time=Time.SNAPSHOT)


def _ltv(ctx: Context, m: dict[str, Any]) -> dict[str, Any]:
    return {"value": ltv_of(ctx, m), "numerator": arpa_of(ctx, m) * _margin(ctx),
            "denominator": monthly_churn_rate_of(m)}


LTV = _saas(
    "ltv", Text("Customer lifetime value (LTV)", "Nilai seumur hidup pelanggan (LTV)",
                "Nilai sepanjang hayat pelanggan (LTV)"),
    Text("Monthly ARPA (MRR at the period's end / accounts paying then) × gross margin (setting "
         "gross_margin, default 1.0) / monthly customer churn rate. At every grain the churn rate "
         "is monthly, pooled over the period's months: accounts churned in its months / accounts "
         "active at each of its months' starts (grain all: every month its range touches; a "
         "month not begun at the as-of instant, or now, is left out). Null when no account "
         "churned in those months, and at week and day grain, which hold no whole month.",
         "ARPA bulanan (MRR di akhir periode / akun yang membayar saat itu) × margin kotor "
         "(pengaturan gross_margin, bawaan 1,0) / tingkat churn pelanggan bulanan. Berapa pun "
         "panjang periodenya, tingkat churn itu bulanan dan digabungkan atas bulan-bulan "
         "periode: akun yang churn dalam bulan-bulannya / akun yang aktif di awal setiap "
         "bulannya (periode all: setiap bulan yang disentuh rentangnya; bulan yang belum dimulai "
         "pada saat as-of, atau sekarang, tidak dihitung). Kosong bila tidak ada akun yang churn "
         "dalam bulan-bulan itu, serta pada periode mingguan dan harian, yang tidak memuat satu "
         "bulan penuh.",
         "ARPA bulanan (MRR pada akhir tempoh / akaun yang membayar ketika itu) × margin kasar "
         "(tetapan gross_margin, lalai 1.0) / kadar churn pelanggan bulanan. Walau berapa "
         "panjang pun tempohnya, kadar churn itu bulanan dan digabungkan bagi bulan-bulan dalam "
         "tempoh: akaun yang churn dalam bulan-bulannya / akaun yang aktif pada awal setiap "
         "bulannya (tempoh all: setiap bulan yang disentuh julatnya; bulan yang belum bermula "
         "pada saat as-of, atau sekarang, tidak dikira). Kosong jika tiada akaun yang churn "
         "dalam bulan-bulan itu, dan bagi tempoh mingguan dan harian, yang tidak mengandungi "
         "sebulan penuh."),
    Unit.CURRENCY, True, {**TOTALS, **MONTHLY_CHURN}, _ltv,
    "monthly arpa × gross margin / (Σ churned_m / Σ active at start_m over the period's months)",
    is_ratio=True)


def _ltv_to_cac(ctx: Context, m: dict[str, Any]) -> dict[str, Any]:
    return _ratio(ltv_of(ctx, m), cac_of(m))


LTV_TO_CAC = _saas(
    "ltv_to_cac", Text("LTV to CAC ratio", "Rasio LTV terhadap CAC", "Nisbah LTV kepada CAC"),
    Text("Customer lifetime value (monthly ARPA × gross margin / the monthly churn rate pooled "
         "over the period's months, as ltv) divided by the customer acquisition cost of the "
         "period (3.0 is the usual healthy mark); by channel or campaign_id, both for that "
         "channel's customers. Null at week and day grain, as ltv.",
         "Nilai seumur hidup pelanggan (ARPA bulanan × margin kotor / tingkat churn bulanan yang "
         "digabungkan atas bulan-bulan periode, seperti ltv) dibagi biaya akuisisi pelanggan "
         "periode (3,0 adalah batas sehat yang umum); per channel atau campaign_id, keduanya "
         "untuk pelanggan channel itu. Kosong pada periode mingguan dan harian, seperti ltv.",
         "Nilai sepanjang hayat pelanggan (ARPA bulanan × margin kasar / kadar churn bulanan "
         "yang digabungkan bagi bulan-bulan dalam tempoh, seperti ltv) dibahagi kos pemerolehan "
         "pelanggan tempoh (3.0 ialah tanda sihat biasa); mengikut saluran atau campaign_id, "
         "kedua-duanya bagi pelanggan saluran itu. Kosong bagi tempoh mingguan dan harian, "
         "seperti ltv."),
    Unit.RATIO, True, {**TOTALS, **MONTHLY_CHURN, **CAC_MEASURES}, _ltv_to_cac,
    "ltv (on the pooled monthly churn rate) / cac of the period", is_ratio=True,
    benchmark=(3.0, 5.0))


def _payback(ctx: Context, m: dict[str, Any]) -> dict[str, Any]:
    return _ratio(cac_of(m), arpa_of(ctx, m) * _margin(ctx))


CAC_PAYBACK_MONTHS = _saas(
    "cac_payback_months",
    Text("CAC payback (months)", "Periode pengembalian CAC (bulan)", "Tempoh pulangan CAC (bulan)"),
    Text("Months of gross-margin revenue from an average account needed to repay its "
         "acquisition: CAC of the period / (monthly ARPA × gross margin), ARPA being MRR at the "
         "period's end / accounts paying then — months at every grain, for a quarter's or a "
         "year's CAC too.",
         "Jumlah bulan pendapatan bermargin kotor dari akun rata-rata yang diperlukan untuk "
         "menutup biaya akuisisinya: CAC periode / (ARPA bulanan × margin kotor), dengan ARPA = "
         "MRR di akhir periode / akun yang membayar saat itu — tetap dalam bulan berapa pun "
         "panjang periodenya, juga untuk CAC satu kuartal atau satu tahun.",
         "Bilangan bulan hasil bermargin kasar daripada akaun purata yang diperlukan untuk "
         "membayar balik kos pemerolehannya: CAC tempoh / (ARPA bulanan × margin kasar), dengan "
         "ARPA = MRR pada akhir tempoh / akaun yang membayar ketika itu — tetap dalam bulan walau "
         "berapa panjang pun tempohnya, juga bagi CAC satu suku tahun atau satu tahun."),
    Unit.MONTHS, False, {**TOTALS, **CAC_MEASURES}, _payback,
    "cac of the period / (monthly arpa × gross margin)", is_ratio=True)

EXPANSION_RATE = _saas(
    "expansion_rate", Text("Expansion rate", "Tingkat ekspansi", "Kadar pengembangan"),
    Text("Expansion MRR divided by MRR at the period's start.",
         "MRR ekspansi dibagi MRR di awal periode.",
         "MRR pengembangan dibahagi MRR pada awal tempoh."),
    Unit.RATIO, True, TOTALS, _over_start(lambda m: m["expansion"]), "expansion / start MRR",
    is_ratio=True)

METRICS = [MRR, ARR, NEW_MRR, EXPANSION_MRR, CONTRACTION_MRR, CHURNED_MRR, REACTIVATION_MRR,
           NET_NEW_MRR, CUSTOMER_CHURN_RATE, GROSS_MRR_CHURN_RATE, NET_REVENUE_RETENTION,
           NET_MRR_CHURN_RATE, QUICK_RATIO, ARPA, LTV, LTV_TO_CAC, CAC_PAYBACK_MONTHS,
           EXPANSION_RATE]
