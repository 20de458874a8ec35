"""Bottlenecks (SPEC §4, issue 15 §1): which stage transition lost most value in a period
against its own trailing baseline, overall and within each segment of every dimension.

For a transition from → to and a period P, with the baseline the `baseline_periods` periods
before P pooled (Σ converted / Σ entered, each period's catalogue ratio parts):

    value lost = (baseline rate − current rate) × leads entering in P × value per conversion

where the value per conversion is the won amount a lead reaching `to` brought in the baseline:
stage_conversion_rate(to → won) × average_deal_size over the baseline range (the won stage
itself: average_deal_size). Significance: the two-sided pooled two-proportion z-test of the
period's converted/entered against the baseline's (`stats.two_proportion_ztest`), Holm-adjusted
over every transition and segment tested. Each finding also carries the median time in the
`from` stage (catalogue `time_in_stage`, stat=median) now and over the baseline, and the
benchmark range of the transition with its status.

Cohorts are compared over the same conversion window: the workspace's window, shortened to the
time since the period ended (at least one day) when that is less, so the period's leads are not
judged against baseline leads that simply had longer to convert (`window_days` in `details`).
A "segment" holding every lead of the period (one value only) is not a split and is left out.

Every number is a catalogue answer (`ws.metrics`): the ratio parts give the counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funnelmetrics.insights.benchmarks import Benchmark, benchmark_for, benchmarks
from funnelmetrics.insights.findings import Finding, Period, ask, by_impact
from funnelmetrics.insights.stats import holm, two_proportion_ztest

if TYPE_CHECKING:
    import pandas as pd

    from funnelmetrics.workspace import Workspace

RATE = "stage_conversion_rate"
# Lead columns that are keys or instants, not segments (rep_id is the rep: a segment).
NOT_SEGMENTS = {"lead_id", "created_at", "account_id", "campaign_id"}


@dataclass(frozen=True)
class Counts:
    converted: float
    entered: float

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None


def segment_dimensions(ws: Workspace) -> list[str]:
    """The leads' own columns that split them into segments: source, rep, industry, segment,
    country… and every extra attribute (SPEC §2)."""
    return [c for c in ws.columns("leads") if c not in NOT_SEGMENTS]


def transitions(ws: Workspace, funnel: str | None = None) -> list[tuple[str, str]]:
    stages = ws.config.funnel(funnel).stages
    return list(zip(stages, stages[1:], strict=False))


def comparable_window(ws: Workspace, period: Period, as_of: Any = None) -> float:
    """The conversion window in days every cohort compared is given: the workspace's, or the
    whole days from the period's end to the as-of instant (now) when fewer (at least 1)."""
    import datetime as dt

    from funnelmetrics.compile.time import parse_instant

    moment = parse_instant(as_of, ws.config.timezone) if as_of is not None else None
    today = moment.date() if moment is not None else dt.date.today()
    since = (today - period.next_start).days
    return float(min(ws.config.conversion_window_days, max(1, since)))


def _value(df: pd.DataFrame) -> float | None:
    import pandas as pd

    if df.empty or pd.isna(df["value"].iloc[0]):
        return None
    return float(df["value"].iloc[0])


def _counts(df: pd.DataFrame, period: Period, baseline: list[Period],
            dim: str | None) -> dict[Any, tuple[Counts, Counts, bool]]:
    """Per segment value (None overall): (current counts, pooled baseline counts, immature)."""
    import pandas as pd

    out: dict[Any, tuple[Counts, Counts, bool]] = {}
    starts = {p.start for p in baseline}
    groups = df.groupby(dim, dropna=False) if dim else [(None, df)]
    for key, rows in groups:
        value = key[0] if isinstance(key, tuple) else key
        if value is not None and pd.isna(value):
            value = None
        now = rows[rows["period_start"] == period.start]
        base = rows[rows["period_start"].isin(starts)]
        cur = Counts(float(now["numerator"].fillna(0).sum()),
                     float(now["denominator"].fillna(0).sum()))
        ref = Counts(float(base["numerator"].fillna(0).sum()),
                     float(base["denominator"].fillna(0).sum()))
        immature = bool(now["immature"].any()) if "immature" in now else False
        out[value] = (cur, ref, immature)
    return out


def bottlenecks(ws: Workspace, period: Period, *, baseline_periods: int = 3,
                dimensions: list[str] | None = None, funnel: str | None = None,
                min_leads: int = 20, alpha: float = 0.05, as_of: Any = None,
                table: list[Benchmark] | None = None, where: dict[str, Any] | None = None,
                memo: dict[str, Any] | None = None) -> list[Finding]:
    """Transitions (overall and per segment) converting worse than their baseline: those whose
    drop is significant (raw p < `alpha`) first, each group by value lost, largest first (a
    noisy drop in a high-value stage does not hide a real leak). Segments with fewer than
    `min_leads` entering in the period are left out. `where` limits every query (a rep's
    scope)."""
    if baseline_periods < 1:
        from funnelmetrics.errors import QueryError

        raise QueryError("baseline_periods must be at least 1")
    dims = segment_dimensions(ws) if dimensions is None else dimensions
    pairs = transitions(ws, funnel)
    last = ws.config.funnel(funnel).last
    base = [period.back(n) for n in range(baseline_periods, 0, -1)]
    window = comparable_window(ws, period, as_of)
    table = benchmarks(ws.config.benchmarks) if table is None else table
    scope = {"as_of": as_of, "where": dict(where or {})}
    rng = {"start": base[0].start, "end": period.end, **scope}
    base_rng = {"grain": "all", "start": base[0].start, "end": base[-1].end, **scope}
    queries: list[tuple[str, dict[str, Any]]] = []
    for a, b in pairs:
        stages = {"from_stage": a, "to_stage": b, "window_days": window}
        queries += [(RATE, {**rng, "grain": period.grain.value, "params": stages, "by": d})
                    for d in [None, *dims]]
        queries += [("time_in_stage", {"grain": period.grain.value, "start": period.start,
                                       "end": period.end, **scope,
                                       "params": {"stage": a, "stat": "median"}}),
                    ("time_in_stage", {**base_rng, "params": {"stage": a, "stat": "median"}})]
        if b != last:
            queries.append((RATE, {**base_rng, "params": {"from_stage": b, "to_stage": last}}))
            # (onward value: the baseline's full window, as its leads had it)
    queries.append(("average_deal_size", base_rng))
    answers = iter(ask(ws, queries, memo))
    deal_size = None
    results: list[tuple[str, str, list[pd.DataFrame], float | None, float | None,
                        float | None]] = []
    for a, b in pairs:
        frames = [next(answers) for _ in [None, *dims]]
        days_now, days_base = _value(next(answers)), _value(next(answers))
        onward = _value(next(answers)) if b != last else 1.0
        results.append((a, b, frames, days_now, days_base, onward))
    deal_size = _value(next(answers))
    findings = []
    for a, b, frames, days_now, days_base, onward in results:
        per_conversion = onward * deal_size if onward is not None and deal_size is not None \
            else None
        bench = benchmark_for(table, RATE, from_stage=a, to_stage=b)
        whole = _counts(frames[0], period, base, None)[None][0].entered
        for dim, df in zip([None, *dims], frames, strict=True):
            for value, (cur, ref, immature) in _counts(df, period, base, dim).items():
                if dim is not None and (cur.entered < min_leads or cur.entered == whole):
                    continue
                f = _finding(a, b, dim, value, cur, ref, immature, per_conversion,
                             days_now if dim is None else None,
                             days_base if dim is None else None, bench, period)
                f.details.update(window_days=window, baseline_periods=baseline_periods)
                findings.append(f)
    adjusted = holm([f.p_value for f in findings])
    for f, q in zip(findings, adjusted, strict=True):
        f.p_adjusted = q
    lost = [f for f in findings if f.impact is not None and f.impact > 0]
    real = [f for f in lost if f.p_value is not None and f.p_value < alpha]
    return same_leads_once(by_impact(real) + by_impact([f for f in lost if f not in real]))


def same_leads_once(findings: list[Finding]) -> list[Finding]:
    """Two dimensions that split out the same leads (source = paid_search and utm_medium = cpc)
    are one finding: the first keeps the other's name in `details["same_as"]`."""
    kept: dict[tuple[Any, ...], Finding] = {}
    for f in findings:
        d = f.details
        key = (f.from_stage, f.to_stage, d["converted"], d["entered"], d["baseline_converted"],
               d["baseline_entered"])
        if key in kept:
            kept[key].details.setdefault("same_as", []).append(
                {"dimension": f.dimension, "dimension_value": f.dimension_value})
        else:
            kept[key] = f
    return list(kept.values())


def _finding(a: str, b: str, dim: str | None, value: Any, cur: Counts, ref: Counts,
             immature: bool, per_conversion: float | None, days_now: float | None,
             days_base: float | None, bench: Benchmark | None, period: Period) -> Finding:
    test = two_proportion_ztest(cur.converted, cur.entered, ref.converted, ref.entered)
    lost: float | None = None
    if cur.rate is not None and ref.rate is not None and per_conversion is not None:
        lost = (ref.rate - cur.rate) * cur.entered * per_conversion
    where = {} if dim is None else {dim: value}
    return Finding(
        kind="bottleneck", metric=RATE, from_stage=a, to_stage=b, dimension=dim,
        dimension_value=None if value is None else str(value), current=cur.rate,
        baseline=ref.rate, impact=lost, p_value=test.p_value,
        details={"period": period.label, "converted": cur.converted, "entered": cur.entered,
                 "baseline_converted": ref.converted, "baseline_entered": ref.entered,
                 "z": test.z, "value_per_conversion": per_conversion, "immature": immature,
                 "median_days_in_stage": days_now, "baseline_median_days_in_stage": days_base,
                 "benchmark": None if bench is None else
                 {"low": bench.low, "high": bench.high, "source": bench.source,
                  "year": bench.year, "status": bench.status(cur.rate)}},
        rows={"table": "leads", "where": where, "stage": a, "start": period.start.isoformat(),
              "end": period.end.isoformat()})
