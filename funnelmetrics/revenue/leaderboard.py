"""The rep leaderboard (SPEC §4 dashboard "rep leaderboard"): per rep and period, won amount, win
rate, mean sales cycle, quota attainment and rank.

Every figure is a catalogue metric split by rep_id (`won_revenue`, `win_rate`,
`sales_cycle_days`, `quota_attainment`), asked in one batch; the rank orders reps within a
period by won amount (ties share the better rank). Reps with no activity in a period are left
out of it. `partial` marks a period not over at the query's instant (as the metrics do).
Without a start or an end, the range runs from the earliest of the metrics' own default starts
to the latest of their ends: one range for every figure.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Any

import pandas as pd

from funnelmetrics.query import query_range

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
COLUMNS = [*KEYS, *FIGURES, "rank", "partial"]


def leaderboard(ws: Workspace, *, grain: str = "month", start: Any = None, end: Any = None,
                as_of: Any = None, where: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per (period, rep) with any activity, ranked by won amount within the period."""
    query = {"grain": grain, "by": "rep_id", "start": start, "end": end, "as_of": as_of,
             "where": where or {}}
    queries = [(metric_id, {"params": params}) for metric_id, params in FIGURES.values()]
    if start is None or end is None:
        # one range for every figure: from the earliest of the metrics' own default starts to
        # the latest of their ends (each alone would split the periods, grain `all` above all)
        ranges = [query_range(ws, metric_id, **{**query, **options})
                  for metric_id, options in queries]
        query.update(start=min(r[0] for r in ranges), end=max(r[1] for r in ranges))
    frames = ws.metrics(queries, **query)
    parts = [df[KEYS + ["value"]].rename(columns={"value": column})
             for column, df in zip(FIGURES, frames, strict=True)]
    table = reduce(lambda a, b: a.merge(b, on=KEYS, how="outer"), parts)
    partial = {p: bool(flag) for df in frames
               for p, flag in zip(df["period_start"], df["partial"], strict=True)}
    active = (table["won_amount"].fillna(0) > 0) | table[list(FIGURES)[1:]].notna().any(axis=1)
    table = table[active & table["rep_id"].notna()].copy()
    table["won_amount"] = table["won_amount"].fillna(0.0)  # no won deal: won_revenue's 0
    table["rank"] = table.groupby("period_start")["won_amount"] \
        .rank(method="min", ascending=False).astype("int64")
    table["partial"] = table["period_start"].map(partial).astype("bool")
    return table.sort_values(["period_start", "rank", "rep_id"], ignore_index=True)[COLUMNS]
