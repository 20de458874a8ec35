"""The insights of a period (issue 15 §7): every detector's findings in one list, ordered by
impact (value in the reporting currency) within tiers of evidence (`TIERS`: leaks against the
baseline, then against the rest, changes, value at stake, status without a value), each with
its plain-language message.

Detectors: bottlenecks (significant drops only), worse-converting segments (Holm-adjusted
p < 0.05), the biggest contributors to the change in bookings by source, stalled deals,
churn-risk accounts, metrics on the wrong side of their benchmark, KPI targets behind or at
risk. A detector whose tables are empty or missing adds nothing (its reason is in `skipped`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from funnelmetrics.errors import FunnelmetricsError
from funnelmetrics.insights.findings import Finding, Period, by_impact
from funnelmetrics.insights.messages import LANGS

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

ALPHA = 0.05
PER_KIND = 3  # at most this many findings of one kind in the top list (variety over volume)
# Impacts are values of different standing: the period's conversions lost against their own
# baseline (bottleneck), against the rest of the leads (segment), a change explained (change),
# value at stake not lost yet (stalled deal, churn risk), status without a value (benchmark,
# KPI). The list runs through them in this order, each by impact, so that a deal worth more
# than a month of bookings does not hide where the funnel leaks.
TIERS = {"bottleneck": 0, "segment": 1, "change": 2, "stalled_deal": 3, "churn_risk": 3,
         "benchmark": 4, "kpi": 4}


def _whole_workspace_only(options: dict, what: str) -> None:
    if options.get("where"):
        from funnelmetrics.errors import QueryError

        raise QueryError(f"{what} cannot be limited to a filter (accounts and targets have no "
                         "rep): left out")


def _bottlenecks(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    from funnelmetrics.insights.bottlenecks import bottlenecks

    found = bottlenecks(ws, period, as_of=as_of,
                        baseline_periods=options.get("baseline_periods", 3),
                        min_leads=options.get("min_leads", 20), memo=options.get("memo"),
                        where=options.get("where"))
    return [f for f in found if f.p_value is not None and f.p_value < ALPHA]


def _segments(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    from funnelmetrics.insights.bottlenecks import transitions
    from funnelmetrics.insights.segments import segments

    out = []
    for a, b in transitions(ws):
        out += [f for f in segments(ws, period, from_stage=a, to_stage=b, as_of=as_of,
                                    min_leads=options.get("min_leads", 30),
                                    baseline_periods=options.get("baseline_periods", 3),
                                    memo=options.get("memo"), where=options.get("where"))
                if f.details["worse"] and f.p_adjusted is not None and f.p_adjusted < ALPHA]
    return out


def _change(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    from funnelmetrics.insights.explain import explain_change

    return explain_change(ws, "bookings", period, by="source", as_of=as_of,
                          where=options.get("where")).findings(3)


def _stalled(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    from funnelmetrics.insights.stalled import stalled_deals

    return stalled_deals(ws, as_of=as_of if as_of is not None else period.next_start,
                         limit=10, where=options.get("where"))


def _churn(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    from funnelmetrics.insights.churn import churn_risk

    _whole_workspace_only(options, "churn risk")
    return churn_risk(ws, period, as_of=as_of)[:10]


def _benchmarks(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    from funnelmetrics import catalog
    from funnelmetrics.insights.benchmarks import benchmark_status

    out = []
    for row in benchmark_status(ws, period.start, period.end, grain=period.grain.value,
                                as_of=as_of, where=options.get("where")):
        if row["good"] is not False:
            continue
        metric = catalog.get(row["metric"])
        suffix = f" {row['from_stage'].upper()} → {row['to_stage'].upper()}" \
            if row["from_stage"] else ""
        suffix += f" ({row['segment']})" if row["segment"] else ""
        labels = {lang: metric.name(lang) + suffix for lang in LANGS}
        out.append(Finding(
            kind="benchmark", metric=row["metric"], current=row["value"],
            from_stage=row["from_stage"], to_stage=row["to_stage"],
            dimension="segment" if row["segment"] else None, dimension_value=row["segment"],
            details={**row, "labels": labels, "unit": metric.unit.value,
                     "source_short": row["source"].split(",")[0]}))
    return out


def _kpis(ws: Workspace, period: Period, as_of: Any, options: dict) -> list[Finding]:
    import pandas as pd

    from funnelmetrics import catalog
    from funnelmetrics.insights.kpis import AT_RISK, BEHIND, kpi_status

    _whole_workspace_only(options, "KPI targets")
    out = []
    df = kpi_status(ws, as_of=as_of if as_of is not None else period.end)
    for row in df.itertuples(index=False):
        if row.status not in (AT_RISK, BEHIND):
            continue
        metric = catalog.get(row.metric)
        labels = {lang: metric.name(lang) for lang in LANGS}
        out.append(Finding(
            kind="kpi", metric=row.metric, current=row.actual, baseline=row.expected,
            dimension=row.dimension, dimension_value=row.dimension_value,
            details={"status": row.status, "unit": row.unit, "labels": labels,
                     "pct_of_target": None if pd.isna(row.pct_of_target)
                     else float(row.pct_of_target), "target": row.target}))
    return out


DETECTORS: dict[str, Callable[[Any, Period, Any, dict], list[Finding]]] = {
    "bottleneck": _bottlenecks, "segment": _segments, "change": _change,
    "stalled_deal": _stalled, "churn_risk": _churn, "benchmark": _benchmarks, "kpi": _kpis}


def insights(ws: Workspace, period: Period, *, lang: str = "en", top: int = 10,
             per_kind: int = PER_KIND, as_of: Any = None, kinds: list[str] | None = None,
             where: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """`{"period": P, "findings": [...], "skipped": {kind: reason}}`: the top `top` findings,
    at most `per_kind` of each kind. `where` limits every detector that can be limited (a
    rep's scope); those that cannot be are skipped, never shown unfiltered."""
    from funnelmetrics.insights.messages import describe

    found: list[Finding] = []
    skipped: dict[str, str] = {}
    shared = {**options, "lang": lang, "memo": {}, "where": dict(where or {})}
    with ws.batch():
        for kind, detect in DETECTORS.items():
            if kinds is not None and kind not in kinds:
                continue
            try:
                found += by_impact(detect(ws, period, as_of, shared))[:per_kind]
            except FunnelmetricsError as exc:
                skipped[kind] = str(exc).splitlines()[0]
    ordered = sorted(by_impact(found), key=lambda f: TIERS[f.kind])[:top]
    return {"period": period.label,
            "findings": describe(ordered, lang, ws.config.currency),
            "skipped": skipped, "_findings": ordered}
