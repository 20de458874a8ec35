"""Pipeline-change waterfall (issue 15 §3): the open pipeline at the end of one day, then what
moved it — new, increased, decreased, pulled in, pushed out, won, lost — to the open pipeline at
the end of a later day. The parts sum exactly to end − start.

Both pipelines are the semantic model's `opportunities` as of an instant (the next day's first
local instant, as the catalogue's pipeline_value at grain day reads "open at the period's end"),
amounts in the reporting currency, unknown amounts as 0 (pipeline_value leaves them out). With
a close window (`close_from`/`close_to`), the pipeline is the open deals expected to close in
it, and a deal whose expected close moved into or out of the window is pulled in or pushed out.
Each deal falls in one part:

- open in both: its amount's change, increased (> 0) or decreased (< 0);
- only at the end: new (created after the start) or pulled in (it existed, outside the window);
- only at the start: won or lost (closed by the end), else pushed out (still open, outside).

The classification and the sums run in the database (Ibis); only the seven totals come back.
Amounts and close dates are the rows' current values: an amount or date edited in the CRM moves
a deal between parts only when the workspace keeps both versions (a later load replaces a row).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funnelmetrics.errors import QueryError

if TYPE_CHECKING:
    import ibis

    from funnelmetrics.workspace import Workspace

PARTS = ("new", "increased", "decreased", "pulled_in", "pushed_out", "won", "lost")


@dataclass
class Waterfall:
    start: dt.date
    end: dt.date
    start_value: float
    end_value: float
    parts: dict[str, float]
    deals: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        steps = [{"step": "start", "value": self.start_value, "deals": None}]
        steps += [{"step": p, "value": self.parts[p], "deals": self.deals[p]} for p in PARTS]
        steps.append({"step": "end", "value": self.end_value, "deals": None})
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "change": self.end_value - self.start_value, "steps": steps}


def _instant(ws: Workspace, day: dt.date) -> dt.datetime:
    from funnelmetrics.compile.time import local_to_utc

    return local_to_utc(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()),
                        ws.config.timezone)


def _in_scope(t: ibis.Table, window: tuple[dt.datetime, dt.datetime] | None) -> ibis.Value:
    cond = t.status == "open"
    if window is not None:
        cond = cond & t.expected_close_at.notnull() & (t.expected_close_at >= window[0]) & \
            (t.expected_close_at < window[1])
    return cond


def pipeline_waterfall(ws: Workspace, start: dt.date, end: dt.date, *,
                       close_from: dt.date | None = None,
                       close_to: dt.date | None = None) -> Waterfall:
    import ibis

    from funnelmetrics import catalog
    from funnelmetrics.semantic import registry
    from funnelmetrics.semantic.model import Scope

    if end < start:
        raise QueryError(f"end {end} is before start {start}")
    if (close_from is None) != (close_to is None):
        raise QueryError("a close window needs both close_from and close_to")
    window = None
    if close_from is not None and close_to is not None:
        if close_to < close_from:
            raise QueryError(f"close_to {close_to} is before close_from {close_from}")
        window = (_instant(ws, close_from - dt.timedelta(days=1)), _instant(ws, close_to))
    catalog.load()
    n0, n1 = _instant(ws, start), _instant(ws, end)
    s0 = registry.base(Scope(ws, as_of=n0), "opportunities")
    s1 = registry.base(Scope(ws, as_of=n1), "opportunities")
    a = s0.filter(_in_scope(s0, window)).select(
        id0=s0.opportunity_id, a0=s0.amount.fill_null(0).cast("float64"))
    b = s1.select(id1=s1.opportunity_id, in1=_in_scope(s1, window),
                  a1=s1.amount.fill_null(0).cast("float64"), status1=s1.status,
                  created1=s1.created_at)
    j = a.outer_join(b, a.id0 == b.id1)
    in0, in1 = j.id0.notnull(), j.id1.notnull() & j.in1.fill_null(False)
    delta = j.a1 - j.a0
    part = ibis.cases(
        (in0 & in1 & (delta > 0), "increased"), (in0 & in1 & (delta < 0), "decreased"),
        (in0 & in1, "unchanged"),
        (in1 & (j.created1 >= n0), "new"), (in1, "pulled_in"),
        (in0 & (j.status1 == "won"), "won"),
        (in0 & (j.status1 == "open"), "pushed_out"),
        (in0, "lost"),  # closed lost by the end
        else_="outside")
    value = ibis.cases((in0 & in1, delta), (in1, j.a1), (in0, -j.a0), else_=0.0)
    rows = j.mutate(part=part, value=value).group_by("part").aggregate(
        value=lambda t: t.value.sum(), deals=lambda t: t.count(), a0=lambda t: t.a0.sum(),
        a1=lambda t: ibis.ifelse(in1_of(t), t.a1, 0.0).sum())
    df = rows.execute().fillna({"a0": 0.0, "a1": 0.0, "value": 0.0})
    parts = {p: 0.0 for p in PARTS}
    deals = {p: 0 for p in PARTS}
    start_value = end_value = 0.0
    for row in df.itertuples(index=False):
        start_value += float(row.a0)
        end_value += float(row.a1)
        if row.part in parts:
            parts[row.part] = float(row.value)
            deals[row.part] = int(row.deals)
    return Waterfall(start, end, start_value, end_value, parts, deals)


def in1_of(t: ibis.Table) -> ibis.Value:
    return t.id1.notnull() & t.in1.fill_null(False)
