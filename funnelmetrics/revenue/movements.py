"""The MRR waterfall (SPEC §3 MRR movements, §4 dashboard "MRR movements"): per period, MRR at
the start, + new, + expansion, + reactivation, − contraction, − churn, = MRR at the end.

Every figure is a catalogue metric, asked in one batch: `new_mrr`, `expansion_mrr`,
`reactivation_mrr`, `contraction_mrr`, `churned_mrr`, `net_new_mrr` and `mrr` (at each period's
end); MRR at a period's start is `mrr` at the previous period's end (the same query begun one
period earlier). Here they are only put side by side, shrinking steps with a minus sign.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from funnelmetrics.compile.time import Grain, floor, parse_grain, shift
from funnelmetrics.query import query_range

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

# column -> sign in the waterfall
STEPS: dict[str, int] = {"start": 1, "new": 1, "expansion": 1, "reactivation": 1,
                         "contraction": -1, "churn": -1, "end": 1}
MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")
COLUMNS = ["period_start", *STEPS, "net_new"]
METRICS = {"new": "new_mrr", "expansion": "expansion_mrr", "reactivation": "reactivation_mrr",
           "contraction": "contraction_mrr", "churn": "churned_mrr", "net_new": "net_new_mrr"}


def mrr_waterfall(ws: Workspace, *, grain: str = "month", start: Any = None, end: Any = None,
                  as_of: Any = None, by: Any = None,
                  where: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per period (and account dimension): start, +new, +expansion, +reactivation,
    −contraction, −churn (shrinking steps are negative), end and net_new."""
    step = parse_grain(grain)
    # one range for every part (the metrics' own default ranges may differ)
    start, end = query_range(ws, "net_new_mrr", grain=grain, by=by, start=start, end=end,
                             as_of=as_of, where=where)
    if step is not Grain.ALL:  # a range that begins inside a period covers that whole period
        start = floor(start, step)
    query = {"grain": grain, "by": by, "start": start, "end": end, "as_of": as_of,
             "where": where}
    # MRR at a period's start is MRR at the previous period's end (for the one period of grain
    # `all`, at the end of the day before it: the same instant)
    before = start - dt.timedelta(days=1)
    previous = ({"grain": "day", "start": before, "end": before} if step is Grain.ALL
                else {"start": shift(start, step, -1), "end": before})
    *moves, ends, earlier = ws.metrics([*METRICS.values(), "mrr", ("mrr", previous)], **query)
    parts = dict(zip(METRICS, moves, strict=True))
    periods = parts["net_new"]
    dims = [c for c in periods.columns
            if c not in ("period_start", "value", "numerator", "denominator", "partial")]
    if step is Grain.ALL:
        starts = earlier.assign(period_start=start)
    else:
        starts = pd.concat([earlier, ends])
        starts = starts.assign(period_start=[shift(p, step) for p in starts["period_start"]])
    keys = ["period_start", *dims]
    out = periods[[*keys, "partial"]].copy()
    for name, df in parts.items():
        out = out.merge(df[[*keys, "value"]].rename(columns={"value": name}), on=keys,
                        how="left")
    out = out.merge(ends[[*keys, "value"]].rename(columns={"value": "end"}), on=keys, how="left")
    out = out.merge(starts[[*keys, "value"]].rename(columns={"value": "start"}), on=keys,
                    how="left")
    for name, sign in STEPS.items():
        out[name] = out[name].astype("float64").fillna(0.0) * sign + 0.0  # no −0.0
    return out[[*keys, *STEPS, "net_new", "partial"]]
