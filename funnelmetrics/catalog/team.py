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
    net = m["promoters"] - m["detractors"]
    return {"value": safe_div(net, m["responses"]) * 100, "numerator": net,
            "denominator": m["responses"]}


ENPS = Metric(
    kind=Kind.SCORE,
    id="enps",
    name=Text("Employee NPS (eNPS)", "eNPS (skor promotor karyawan)",
              "eNPS (skor promoter pekerja)"),
    description=Text(
        "Of the survey responses answered in the period: % promoters (9–10) − % detractors "
        "(0–6), from −100 to 100; passives (7–8) count only in the total. Split by team.",
        "Dari jawaban survei dalam periode: % promotor (9–10) − % detraktor (0–6), dari −100 "
        "hingga 100; pasif (7–8) hanya dihitung dalam total. Dapat dipisah per tim.",
        "Daripada jawapan tinjauan dalam tempoh: % promoter (9–10) − % pengkritik (0–6), dari "
        "−100 hingga 100; pasif (7–8) hanya dikira dalam jumlah. Boleh dipecah mengikut pasukan."),
    unit=Unit.SCORE, higher_is_better=True, entity="survey_responses", group="team",
    measures={"promoters": _answered(_promoter),
              "detractors": _answered(_detractor),
              "responses": _answered()},
    combine=_enps, is_ratio=True, formula="100 × (promoters − detractors) / responses",
    benchmark=(10.0, 40.0),
)

METRICS = [ENPS]
