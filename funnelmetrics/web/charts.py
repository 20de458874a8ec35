"""Plotly figure specs as plain dicts (`{"data": [...], "layout": {...}}`), drawn in the browser
by the plotly.min.js of the installed plotly package. Points may carry a drill-down URL in
`customdata`: clicking one opens the rows behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04",
           "#4b5563", "#db2777", "#65a30d"]
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
          partial_label: str = "partial") -> Spec:
    """One line (or bar group) per series: (name, x, y, drill-down URLs).

    `partial` flags each point of each series whose period is not over yet: such a point is
    drawn lighter (a hollow marker, a pale bar) and its hover says `partial_label`.
    """
    fmt = axis_format(unit)
    data = []
    for i, (name, x, y, urls) in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        trace: dict[str, Any] = {
            "type": kind, "name": name, "x": x, "y": y, "customdata": urls,
            "marker": {"color": color},
            "hovertemplate": f"%{{x}}<br>{_esc(name)}: %{{y:{fmt['hover']}}}"
                             f"{fmt.get('suffix', '')}<extra></extra>",
        }
        if kind == "scatter":
            trace.update(mode="lines+markers", line={"width": 2, "shape": "linear"})
        flags = list(partial[i]) if partial is not None and i < len(partial) else []
        if any(flags):
            _mark_partial(trace, flags, kind, partial_label)
        data.append(trace)
    return {"data": data, "layout": {
        "yaxis": {"tickformat": fmt["tickformat"], "rangemode": "tozero",
                  "ticksuffix": fmt.get("suffix", "")},
        "xaxis": {"type": "category" if kind == "bar" and not _dates(series) else "-"},
        "showlegend": len(series) > 1, "barmode": "group", "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.2}}}


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
          text: list[str] | None = None) -> Spec:
    """Horizontal bars, first label on top (leaderboards, drop-off, time in stage)."""
    fmt = axis_format(unit)
    return {"data": [{"type": "bar", "orientation": "h", "y": labels, "x": values,
                      "customdata": urls, "text": text, "textposition": "auto",
                      "marker": {"color": PALETTE[0]},
                      "hovertemplate": f"%{{y}}: %{{x:{fmt['hover']}}}<extra></extra>"}],
            "layout": {"xaxis": {"tickformat": fmt["tickformat"]},
                       "yaxis": {"autorange": "reversed", "type": "category",
                                 "automargin": True},
                       "showlegend": False}}


def funnel(stages: list[str], traces: Sequence[tuple[str, list[Any], list[str] | None]]) -> Spec:
    """A funnel (one trace per segment): leads reaching each stage, % of the first stage."""
    data = [{"type": "funnel", "name": name, "y": stages, "x": values, "customdata": urls,
             "texttemplate": "%{value:,}<br>%{percentInitial:.1%}",
             "marker": {"color": PALETTE[i % 10]},
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
