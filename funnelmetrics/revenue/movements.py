"""The MRR waterfall (SPEC §3 MRR movements, §4 dashboard "MRR movements"): per period, MRR at
the start, + new, + expansion, + reactivation, − contraction, − churn, = MRR at the end.

It asks the catalogue's own measures (`catalog.revenue`) in one expression, so every figure equals
what `metric new_mrr` (etc.) gives, and start + movements = end holds row by row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from funnelmetrics.catalog import revenue as rv
from funnelmetrics.catalog.model import Metric, Text, Unit
from funnelmetrics.compile.compiler import measure_frame
from funnelmetrics.compile.time import Window
from funnelmetrics.query import _context, _default_range, parse_query

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

# column -> sign in the waterfall (start and end are the catalogue's running totals)
STEPS: dict[str, int] = {"start": 1, "new": 1, "expansion": 1, "reactivation": 1,
                         "contraction": -1, "churn": -1, "end": 1}
MOVEMENTS = ("new", "expansion", "reactivation", "contraction", "churn")
COLUMNS = ["period_start", *STEPS, "net_new"]

_WATERFALL = Metric(
    id="mrr_waterfall", name=Text("MRR movements", "Pergerakan MRR", "Pergerakan MRR"),
    description=Text("MRR at the start, its movements and MRR at the end of each period.",
                     "MRR awal, pergerakannya dan MRR akhir tiap periode.",
                     "MRR awal, pergerakannya dan MRR akhir setiap tempoh."),
    unit=Unit.CURRENCY, higher_is_better=True, entity="accounts",
    measures=rv.TOTALS,
    combine=lambda ctx, m: {"value": m["end"]},
)


def mrr_waterfall(ws: Workspace, *, grain: str = "month", start: Any = None, end: Any = None,
                  as_of: Any = None, by: Any = None,
                  where: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per period (and account dimension): start, +new, +expansion, +reactivation,
    −contraction, −churn (shrinking steps are negative), end and net_new."""
    q = parse_query(ws, "net_new_mrr", grain=grain, by=by, start=start, end=end, where=where,
                    as_of=as_of)
    if q.start is None or q.end is None:
        q.start, q.end = _default_range(ws, q)
    ctx = _context(ws, q, Window(q.grain, q.start, q.end, ws.config.timezone))
    frame = measure_frame(ctx, _WATERFALL)
    m = {name: frame[name].fill_null(0).cast("float64") for name in rv.TOTALS}
    values = {"start": rv.mrr_start_of(ctx, m), **{k: m[k] for k in MOVEMENTS},
              "end": rv.mrr_end_of(ctx, m)}
    cols = {name: values[name] * sign + 0.0 for name, sign in STEPS.items()}  # no −0.0
    net_new = sum(cols[name] for name in MOVEMENTS)
    dims = {d[4:]: frame[d] for d in ctx.dims}
    df = frame.select("period_start", **dims, **cols, net_new=net_new) \
        .order_by(["period_start", *dims]).execute()
    df["period_start"] = df["period_start"].map(lambda v: v.date() if hasattr(v, "date") else v)
    return df[["period_start", *dims, *STEPS, "net_new"]]
