"""Trends page: any metric of the catalogue, any grain, split by a dimension, with its
parameters (stages, statistic, …) as form controls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric
from funnelmetrics.i18n.ui import t
from funnelmetrics.web import service
from funnelmetrics.web.auth import Principal
from funnelmetrics.web.source import Session
from funnelmetrics.web.views.common import (
    Card,
    Filters,
    fetch,
    metric_card,
    unit_of,
    value_table,
)

DEFAULT_METRIC = "leads_created"


def chosen_metric(args: Mapping[str, Any]) -> Metric:
    metric_id = str(args.get("metric") or DEFAULT_METRIC)
    return service.known_metric(metric_id)


def params_of(metric: Metric, args: Mapping[str, Any]) -> dict[str, Any]:
    """The metric's parameters from `p_NAME` form fields (empty means the default)."""
    return {p.name: args[f"p_{p.name}"] for p in metric.params
            if str(args.get(f"p_{p.name}") or "").strip()}


def controls(metric: Metric, params: Mapping[str, Any], stages: list[str],
             lang: str) -> dict[str, Any]:
    """The metric picker (by group) and one control per parameter."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for m in catalog.all_metrics():
        groups.setdefault(m.group, []).append((m.id, m.name(lang)))
    fields = []
    for p in metric.params:
        choices = list(p.choices) if p.choices else stages if p.kind == "stage" else None
        if p.kind == "bool":
            choices = ["false", "true"]
        fields.append({"name": f"p_{p.name}", "label": p.name, "help": p.description,
                       "choices": choices, "value": params.get(p.name, "")})
    return {"groups": groups, "fields": fields}


def page(session: Session, who: Principal, f: Filters, args: Mapping[str, Any],
         stages: list[str]) -> dict[str, Any]:
    metric = chosen_metric(args)
    params = params_of(metric, args)
    f.extra.update({"metric": metric.id, **{f"p_{k}": v for k, v in params.items()}})
    chart = metric_card(session, who, f, metric.id, params=params, by=f.by, wide=True)
    cards = [chart]
    df = fetch(session, who, f, metric.id, params, [f.by] if f.by else [])
    if not isinstance(df, str):
        columns = ["period_start", *([f.by] if f.by else []), "value"]
        labels = [t("period", f.lang), *([f.by] if f.by else []), metric.name(f.lang)]
        if metric.is_ratio:
            columns += ["numerator", "denominator"]
            labels += [t("numerator", f.lang), t("denominator", f.lang)]
        table, note = value_table(f, df, unit_of(metric), columns, labels)
        cards.append(Card(t("table", f.lang), table=table, note=note, wide=True))
    return {"cards": cards, "metric": metric, "description": metric.description(f.lang),
            "formula": metric.formula, "controls": controls(metric, params, stages, f.lang)}
