"""The metric catalogue: every metric is one declarative entry (SPEC §3).

The Python API, the CLI, the REST API, the dashboard and the reports only *ask* it. A metric is
checked by the catalogue's rules (`catalog.rules`) when it is registered; registering a metric
of one's own adds it to the built-in ones (never replaces or removes one).

>>> from funnelmetrics import catalog  # doctest: +SKIP
>>> catalog.register(my_metric)  # doctest: +SKIP
"""

from __future__ import annotations

from funnelmetrics.catalog.model import LANGS, Agg, Kind, Measure, Metric, Param, Text, Time, Unit
from funnelmetrics.errors import ConfigError, QueryError

CATALOG: dict[str, Metric] = {}
_loaded = False


def register(*metrics: Metric) -> None:
    """Add metrics to the catalogue. Each must pass the catalogue's rules and have an id of its
    own: a ConfigError names the problems (with their codes) otherwise."""
    _load()
    _add(metrics)


def _add(metrics: tuple[Metric, ...] | list[Metric]) -> None:
    from funnelmetrics.catalog.rules import check

    for metric in metrics:
        problems = [str(p) for p in check(metric)]
        if metric.id in CATALOG:
            problems.insert(0, f"C000 {metric.id}: metric {metric.id!r} is already registered")
        if problems:
            raise ConfigError("metric not registered: " + "; ".join(problems))
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


def load() -> None:
    """Load the catalogue, and with it every entity and derived column its metrics read (they
    declare themselves where they are built): the semantic model is then complete."""
    _load()


def _load() -> None:
    """Import every catalogue module once (each lists its METRICS), before any other entry."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from funnelmetrics.catalog import deals, funnel, marketing, product, revenue, team

    for module in (funnel, deals, revenue, marketing, product, team):
        _add(module.METRICS)


__all__ = ["CATALOG", "LANGS", "Agg", "Kind", "Measure", "Metric", "Param", "Text", "Time", "Unit",
           "all_metrics", "get", "load", "register"]
