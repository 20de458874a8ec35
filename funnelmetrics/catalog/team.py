"""Team metrics (SPEC §3): employee Net Promoter Score. quota_attainment lives in deals.py."""

from __future__ import annotations

from typing import Any

import ibis

from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Text, Unit
from funnelmetrics.compile.context import Context, safe_div


def _promoter(ctx: Context, t: ibis.Table) -> ibis.Value:
    return t.score >= 9


def _detractor(ctx: Context, t: ibis.Table) -> ibis.Value:
    return t.score <= 6


def _answered(where: Any = None) -> Measure:
    return Measure("survey_responses", Agg.COUNT, time="answered_at", where=where)


def _enps(ctx: Context, m: dict[str, Any]) -> dict[str, Any]:
    """Shown only for a group (a period × split, after filters) of at least
    `enps_min_respondents` distinct respondents (funnelmetrics.toml, default 5): a smaller one
    is null with a note, so a split or filter never exposes a few people's answers. Every
    surface asks the catalogue, so API, CLI and dashboard all obey it."""
    least = ctx.config.enps_min_respondents
    net = m["promoters"] - m["detractors"]
    few = (m["respondents"] > 0) & (m["respondents"] < least)
    note = f"fewer than {least} respondents: not shown (enps_min_respondents)"
    return {"value": ibis.ifelse(few, ibis.null("float64"), safe_div(net, m["responses"]) * 100),
            "numerator": ibis.ifelse(few, ibis.null("int64"), net),
            "denominator": m["responses"],
            "note": ibis.ifelse(few, ibis.literal(note), ibis.null("string"))}


ENPS = Metric(
    kind=Kind.SCORE,
    id="enps",
    name=Text("Employee NPS (eNPS)", "eNPS (skor promotor karyawan)",
              "eNPS (skor promoter pekerja)"),
    description=Text(
        "Of the survey responses answered in the period: % promoters (9–10) − % detractors "
        "(0–6), from −100 to 100; passives (7–8) count only in the total. Split by team. A group of fewer "
        "than 5 respondents (enps_min_respondents) is not shown.",
        "Dari jawaban survei dalam periode: % promotor (9–10) − % detraktor (0–6), dari −100 "
        "hingga 100; pasif (7–8) hanya dihitung dalam total. Dapat dipisah per tim. Kelompok "
        "dengan kurang dari 5 responden (enps_min_respondents) tidak ditampilkan.",
        "Daripada jawapan tinjauan dalam tempoh: % promoter (9–10) − % pengkritik (0–6), dari "
        "−100 hingga 100; pasif (7–8) hanya dikira dalam jumlah. Boleh dipecah mengikut pasukan. "
        "Kumpulan kurang daripada 5 responden (enps_min_respondents) tidak ditunjukkan."),
    unit=Unit.SCORE, higher_is_better=True, entity="survey_responses", group="team",
    measures={"promoters": _answered(_promoter),
              "detractors": _answered(_detractor),
              "responses": _answered(),
              "respondents": Measure("survey_responses", Agg.COUNT_DISTINCT,
                                     time="answered_at", expr="respondent_id")},
    combine=_enps, is_ratio=True, formula="100 × (promoters − detractors) / responses",
    benchmark=(10.0, 40.0),
)

METRICS = [ENPS]
