"""Churn-risk accounts (SPEC §4, issue 15 §4): paying accounts whose engagement in the period fell
significantly against their own history and sits below the cohort, with the MRR at risk.

From the catalogue: `engagement_score` by account_id (0–100, the account's weighted events as a
percentile of the period's accounts; paying without events → 0) for the period and the
`history_periods` before it, and `mrr` by account_id at the period's end (paying = MRR > 0).

- fell significantly: the period's score is more than `sigmas` standard deviations below the
  mean of the account's own scores over its history (a Shewhart control-chart rule; the
  deviation is floored at `min_sd` points so a flat history does not flag a one-point dip),
  with at least `min_history` scored periods;
- below the cohort: the score is under 50, the median of the period's accounts.

Impact: the account's annual revenue at risk, 12 × its MRR.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from funnelmetrics.insights.findings import Finding, Period, by_impact

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

COHORT_MEDIAN = 50.0


def churn_risk(ws: Workspace, period: Period, *, history_periods: int = 6, sigmas: float = 2.0,
               min_sd: float = 5.0, min_history: int = 3, as_of: Any = None) -> list[Finding]:
    import pandas as pd

    start = period.back(history_periods)
    scores, mrr = ws.metrics([
        ("engagement_score", {"grain": period.grain.value, "by": "account_id",
                              "start": start.start, "end": period.end, "as_of": as_of}),
        ("mrr", {"grain": period.grain.value, "by": "account_id", "start": period.start,
                 "end": period.end, "as_of": as_of})])
    paying = {str(r.account_id): float(r.value) for r in mrr.itertuples(index=False)
              if r.period_start == period.start and pd.notna(r.value) and r.value > 0}
    history: dict[str, list[float]] = {}
    current: dict[str, float] = {}
    for r in scores.itertuples(index=False):
        if pd.isna(r.value) or str(r.account_id) not in paying:
            continue
        if r.period_start == period.start:
            current[str(r.account_id)] = float(r.value)
        else:
            history.setdefault(str(r.account_id), []).append(float(r.value))
    out = []
    for account, now in current.items():
        past = history.get(account, [])
        if len(past) < min_history or now >= COHORT_MEDIAN:
            continue
        mean = statistics.fmean(past)
        sd = max(statistics.stdev(past) if len(past) > 1 else 0.0, min_sd)
        z = (now - mean) / sd
        if z >= -sigmas:
            continue
        out.append(Finding(
            kind="churn_risk", metric="engagement_score", current=now, baseline=mean,
            impact=12 * paying[account], dimension="account_id", dimension_value=account,
            details={"period": period.label, "mrr": paying[account], "z": z,
                     "history_sd": sd, "history_periods": len(past),
                     "cohort_median": COHORT_MEDIAN},
            rows={"table": "subscriptions", "where": {"account_id": account}}))
    return by_impact(out)
