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

# column -> (measure, sign in the waterfall)
STEPS: dict[str, tuple[Any, int]] = {
    "start": (rv.MRR_START, 1), "new": (rv.NEW, 1), "expansion": (rv.EXPANSION, 1),
    "reactivation": (rv.REACTIVATION, 1), "contraction": (rv.CONTRACTION, -1),
    "churn": (rv.CHURN, -1), "end": (rv.MRR_END, 1),
}
COLUMNS = ["period_start", *STEPS, "net_new"]

_WATERFALL = Metric(
    id="mrr_waterfall", name=Text("MRR movements", "Pergerakan MRR", "Pergerakan MRR"),
    description=Text("MRR at the start, its movements and MRR at the end of each period.",
                     "MRR awal, pergerakannya dan MRR akhir tiap periode.",
                     "MRR awal, pergerakannya dan MRR akhir setiap tempoh."),
    unit=Unit.CURRENCY, higher_is_better=True, entity="accounts",
    measures={name: measure for name, (measure, _) in STEPS.items()},
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
    cols = {name: frame[name].fill_null(0).cast("float64") * sign + 0.0  # no −0.0
            for name, (_, sign) in STEPS.items()}
    net_new = sum(cols[name] for name in STEPS if name not in ("start", "end"))
    dims = {d[4:]: frame[d] for d in ctx.dims}
    df = frame.select("period_start", **dims, **cols, net_new=net_new) \
        .order_by(["period_start", *dims]).execute()
    df["period_start"] = df["period_start"].map(lambda v: v.date() if hasattr(v, "date") else v)
    return df[["period_start", *dims, *STEPS, "net_new"]]
