"""Plotly figure specs as plain dicts (`{"data": [...], "layout": {...}}`), drawn in the browser
by the plotly.min.js of the installed plotly package. Points may carry a drill-down URL in
`customdata`: clicking one opens the rows behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from funnelmetrics.palette import COLORS, color

PALETTE = list(COLORS)  # series are coloured by their value (`funnelmetrics.palette.color`)
Spec = dict[str, Any]
HEAT = [[0.0, "#f1f5ff"], [0.5, "#93b4f5"], [1.0, "#1e40af"]]  # low pale, high deep blue


def axis_format(unit: str) -> dict[str, Any]:
    """Tick and hover formats for a metric unit."""
    if unit == "ratio":
        return {"tickformat": ".0%", "hover": ".1%"}
    if unit == "multiple":
        return {"tickformat": ".1f", "hover": ".2f", "suffix": "×"}
    if unit in ("currency", "currency_per_day"):
        return {"tickformat": "~s", "hover": ",.0f"}
    if unit in ("days", "months", "score"):
        return {"tickformat": ",.1f", "hover": ",.1f"}
    return {"tickformat": "~s", "hover": ",.0f"}


def lines(series: Sequence[tuple[str, list[Any], list[Any], list[str] | None]], *, unit: str,
          kind: str = "scatter", partial: Sequence[Sequence[bool]] | None = None,
          partial_label: str = "partial",
          period_label: Callable[[str], str] | None = None) -> Spec:
    """One line (or bar group) per series: (name, x, y, drill-down URLs), each in its value's
    colour (`palette.color`).

    `partial` flags each point of each series whose period is not over yet: such a point is
    drawn lighter (a hollow marker, a pale bar) and its hover says `partial_label`.
    `period_label` writes a period's start (YYYY-MM-DD) in the page's language: the x axis
    then reads "Jan 2026" / "Jan 2026" / "Jan 2026" in en, id, ms.
    """
    fmt = axis_format(unit)
    data = []
    for i, (name, x, y, urls) in enumerate(series):
        shade = color(name) if len(series) > 1 else PALETTE[0]
        trace: dict[str, Any] = {
            "type": kind, "name": name, "x": x, "y": y, "customdata": urls,
            "marker": {"color": shade},
            "hovertemplate": f"%{{x}}<br>{_esc(name)}: %{{y:{fmt['hover']}}}"
                             f"{fmt.get('suffix', '')}<extra></extra>",
        }
        if kind == "scatter":
            trace.update(mode="lines+markers", line={"width": 2, "shape": "linear"})
        if kind == "scatter":
            trace["line"]["color"] = shade
        flags = list(partial[i]) if partial is not None and i < len(partial) else []
        if any(flags):
            _mark_partial(trace, flags, kind, partial_label)
        data.append(trace)
    xaxis: dict[str, Any] = {"type": "category" if kind == "bar" and not _dates(series) else "-"}
    if period_label is not None and _dates(series):
        xaxis.update(period_ticks(sorted({x for _, xs, _, _ in series for x in xs}),
                                  period_label))
    return {"data": data, "layout": {
        "yaxis": {"tickformat": fmt["tickformat"], "rangemode": "tozero",
                  "ticksuffix": fmt.get("suffix", "")},
        "xaxis": xaxis,
        "showlegend": len(series) > 1, "barmode": "group", "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.2}}}


def period_ticks(periods: Sequence[str], label: Callable[[str], str],
                 most: int = 12) -> dict[str, Any]:
    """Tick marks on period starts with localised labels (at most `most`, evenly spaced):
    Plotly's own date ticks are English only."""
    step = max(1, -(-len(periods) // most))
    shown = list(periods)[::step]
    return {"tickmode": "array", "tickvals": shown, "ticktext": [label(p) for p in shown]}


def clipped_axis(values: Sequence[float | None], factor: float = 3.0) -> float | None:
    """Where to cut a bar axis so that one outlier does not flatten the rest: when the largest
    value is more than `factor` times the next largest, 1.25 × that next one; else None."""
    known = sorted((abs(v) for v in values if v is not None), reverse=True)
    if len(known) < 3 or known[1] <= 0 or known[0] <= factor * known[1]:
        return None
    return known[1] * 1.25


def _mark_partial(trace: dict[str, Any], flags: list[bool], kind: str, label: str) -> None:
    """Partial points lighter: hollow markers on a line, pale bars; " (label)" in the hover."""
    trace["marker"]["opacity"] = [0.45 if f else 1.0 for f in flags]
    if kind == "scatter":
        trace["marker"]["symbol"] = ["circle-open" if f else "circle" for f in flags]
        trace["marker"]["size"] = [9 if f else 6 for f in flags]
    trace["text"] = [f" ({_esc(label)})" if f else "" for f in flags]
    if kind == "bar":
        trace["textposition"] = "none"  # hover only (a line's mode draws no text)
    trace["hovertemplate"] = trace["hovertemplate"].replace("%{x}<br>", "%{x}%{text}<br>", 1)


def _dates(series: Sequence[tuple[str, list[Any], list[Any], list[str] | None]]) -> bool:
    first = series[0][1] if series and series[0][1] else []
    return bool(first) and isinstance(first[0], str) and len(first[0]) == 10 \
        and first[0][4] == "-"


def hbars(labels: list[str], values: list[Any], *, unit: str, urls: list[str] | None = None,
          text: list[str] | None = None, by_value: bool = False,
          clip_note: str | None = None) -> Spec:
    """Horizontal bars, first label on top (leaderboards, drop-off, time in stage).

    `by_value`: each bar in its label's colour (`palette.color`: channels, segments). With
    `clip_note` ("axis cut at {cut}"-style text), an outlier more than 3× the next bar is cut
    at the axis (`clipped_axis`), its value written on it and the note shown under the chart.
    """
    fmt = axis_format(unit)
    xaxis: dict[str, Any] = {"tickformat": fmt["tickformat"]}
    layout: dict[str, Any] = {"xaxis": xaxis,
                              "yaxis": {"autorange": "reversed", "type": "category",
                                        "automargin": True},
                              "showlegend": False}
    cut = clipped_axis(values) if clip_note is not None else None
    if cut is not None:
        low = min([0.0, *(v for v in values if v is not None)])
        xaxis["range"] = [low * 1.1 if low < 0 else 0, cut]
        layout["annotations"] = [{"text": clip_note, "xref": "paper", "yref": "paper",
                                  "x": 1, "y": -0.18, "showarrow": False,
                                  "xanchor": "right", "font": {"size": 11,
                                                               "color": "#6b7280"}}]
        text = text or [None] * len(values)
        text = [t if t is not None else "" for t in text]
    return {"data": [{"type": "bar", "orientation": "h", "y": labels, "x": values,
                      "customdata": urls, "text": text, "textposition": "auto",
                      "cliponaxis": True,
                      "marker": {"color": [color(v) for v in labels] if by_value
                                 else PALETTE[0]},
                      "hovertemplate": f"%{{y}}: %{{x:{fmt['hover']}}}<extra></extra>"}],
            "layout": layout}


def funnel(stages: list[str], traces: Sequence[tuple[str, list[Any], list[str] | None]]) -> Spec:
    """A funnel (one trace per segment): leads reaching each stage, % of the first stage."""
    data = [{"type": "funnel", "name": name, "y": stages, "x": values, "customdata": urls,
             "texttemplate": "%{value:,}<br>%{percentInitial:.1%}",
             "marker": {"color": color(name) if len(traces) > 1 else PALETTE[0]},
             "hovertemplate": "%{y}: %{x:,} (%{percentInitial:.1%} of first, "
                              "%{percentPrevious:.1%} of previous)<extra>" + _esc(name) +
                              "</extra>"}
            for i, (name, values, urls) in enumerate(traces)]
    return {"data": data, "layout": {"showlegend": len(traces) > 1, "funnelmode": "group",
                                     "yaxis": {"type": "category", "automargin": True},
                                     "legend": {"orientation": "h", "y": -0.1}}}


def heatmap(x: list[str], y: list[str], z: list[list[Any]], text: list[list[str]], *,
            unit: str, urls: list[list[str | None]] | None = None) -> Spec:
    """A heat-map (cohorts × stages or segments) with the formatted value in each cell."""
    fmt = axis_format(unit)
    return {"data": [{"type": "heatmap", "x": x, "y": y, "z": z, "text": text,
                      "texttemplate": "%{text}", "customdata": urls, "colorscale": HEAT,
                      "hoverongaps": False, "xgap": 2, "ygap": 2,
                      "colorbar": {"tickformat": fmt["tickformat"], "thickness": 12},
                      "hovertemplate": "%{y} · %{x}: %{text}<extra></extra>"}],
            "layout": {"yaxis": {"type": "category", "autorange": "reversed",
                                 "automargin": True},
                       "xaxis": {"type": "category", "side": "top", "automargin": True}}}


def waterfall(labels: list[str], values: list[Any], measures: list[str],
              text: list[str]) -> Spec:
    """A waterfall: start, movements up and down, end (MRR movements)."""
    return {"data": [{"type": "waterfall", "x": labels, "y": values, "measure": measures,
                      "text": text, "textposition": "outside",
                      "increasing": {"marker": {"color": "#16a34a"}},
                      "decreasing": {"marker": {"color": "#dc2626"}},
                      "totals": {"marker": {"color": "#2563eb"}},
                      "hovertemplate": "%{x}: %{text}<extra></extra>"}],
            "layout": {"showlegend": False, "yaxis": {"tickformat": "~s"},
                       "xaxis": {"type": "category"}}}


def sparkline_parts(values: Sequence[float | None], partial: Sequence[bool], width: int = 120,
                    height: int = 32) -> tuple[str, str]:
    """A sparkline as (solid, dashed) SVG polyline points on one scale: solid over the full
    periods, dashed from the last full point over the partial periods (not over yet)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return "", ""
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    step = width / max(len(values) - 1, 1)
    points = [(i, f"{i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}")
              for i, v in enumerate(values) if v is not None]
    first = next((i for i, flag in enumerate(partial) if flag), len(values))
    solid = [xy for i, xy in points if i < first]
    dashed = [xy for i, xy in points if i >= first]
    if dashed and solid:
        dashed.insert(0, solid[-1])  # the dashed end starts where the solid line stops
    return " ".join(solid), " ".join(dashed) if len(dashed) > 1 else ""


def _esc(text: str) -> str:
    return str(text).replace("<", "&lt;").replace(">", "&gt;")
