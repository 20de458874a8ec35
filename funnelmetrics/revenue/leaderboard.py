"""The rep leaderboard (SPEC §4 dashboard "rep leaderboard"): per rep and period, won amount, win
rate, mean sales cycle, quota attainment and rank.

Every figure is a catalogue metric split by rep_id (`won_revenue`, `win_rate`,
`sales_cycle_days`, `quota_attainment`); the rank orders reps within a period by won amount
(ties share the better rank). Reps with no activity in a period are left out of it.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

# column -> (metric id, parameters)
FIGURES: dict[str, tuple[str, dict[str, Any]]] = {
    "won_amount": ("won_revenue", {}),
    "win_rate": ("win_rate", {}),
    "mean_cycle_days": ("sales_cycle_days", {"stat": "mean"}),
    "quota_attainment": ("quota_attainment", {}),
}
KEYS = ["period_start", "rep_id"]
COLUMNS = [*KEYS, *FIGURES, "rank"]


def leaderboard(ws: Workspace, *, grain: str = "month", start: Any = None, end: Any = None,
                as_of: Any = None, where: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per (period, rep) with any activity, ranked by won amount within the period."""
    query = {"grain": grain, "by": "rep_id", "start": start, "end": end, "as_of": as_of,
             "where": where or {}}
    parts = []
    for column, (metric_id, params) in FIGURES.items():
        df = ws.metric(metric_id, params=params, **query)
        parts.append(df[KEYS + ["value"]].rename(columns={"value": column}))
    table = reduce(lambda a, b: a.merge(b, on=KEYS, how="outer"), parts)
    active = (table["won_amount"].fillna(0) > 0) | table[list(FIGURES)[1:]].notna().any(axis=1)
    table = table[active & table["rep_id"].notna()].copy()
    table["won_amount"] = table["won_amount"].fillna(0.0)
    table["rank"] = table.groupby("period_start")["won_amount"] \
        .rank(method="min", ascending=False).astype("int64")
    return table.sort_values(["period_start", "rank", "rep_id"], ignore_index=True)[COLUMNS]
