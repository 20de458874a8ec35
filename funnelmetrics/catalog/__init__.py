"""The metric catalogue: every metric is one declarative entry (SPEC §3).

The Python API, the CLI, the REST API, the dashboard and the reports only *ask* it.
"""

from __future__ import annotations

from funnelmetrics.catalog.model import LANGS, Agg, Measure, Metric, Param, Text, Time, Unit
from funnelmetrics.errors import QueryError

CATALOG: dict[str, Metric] = {}


def register(*metrics: Metric) -> None:
    for metric in metrics:
        if metric.id in CATALOG:
            raise ValueError(f"metric {metric.id!r} registered twice")
        CATALOG[metric.id] = metric


def get(metric_id: str) -> Metric:
    """The entry for `metric_id`, or a QueryError listing what exists."""
    _load()
    try:
        return CATALOG[metric_id]
    except KeyError:
        raise QueryError(f"unknown metric {metric_id!r}; see `funnelmetrics metrics` for the "
                         "catalogue") from None


def all_metrics() -> list[Metric]:
    _load()
    return list(CATALOG.values())


_MODULES = ("funnel", "deals", "revenue", "marketing", "product", "team")


def _load() -> None:
    """Import every catalogue module once (each registers its METRICS)."""
    if CATALOG:
        return
    import importlib

    for name in _MODULES:
        try:
            module = importlib.import_module(f"funnelmetrics.catalog.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"funnelmetrics.catalog.{name}":
                raise
            continue
        register(*module.METRICS)


__all__ = ["CATALOG", "LANGS", "Agg", "Measure", "Metric", "Param", "Text", "Time", "Unit",
           "all_metrics", "get", "register"]
