"""Catalogue validation rules: small checks with stable codes, run when a metric is registered
(and over the whole catalogue in the tests), like ingest's data rules.

Each rule takes a metric and returns its problems (empty when it holds). The codes are stable:
tools and people may rely on them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from funnelmetrics.catalog.model import LANGS, Agg, Kind, Metric, Time, Unit
from funnelmetrics.semantic import registry


@dataclass(frozen=True)
class Problem:
    code: str
    metric: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} {self.metric}: {self.message}"


Rule = Callable[[Metric], list[str]]
RULES: dict[str, tuple[str, Rule]] = {}


def rule(code: str, title: str) -> Callable[[Rule], Rule]:
    def add(check: Rule) -> Rule:
        RULES[code] = (title, check)
        return check

    return add


@rule("C001", "ids are lower_snake_case")
def _id(m: Metric) -> list[str]:
    return [] if re.fullmatch(r"[a-z][a-z0-9_]*", m.id) else [f"id {m.id!r} is not snake_case"]


@rule("C002", "name and description in every first-class language")
def _texts(m: Metric) -> list[str]:
    return [f"{what} has no {lang} text" for what, text in (("name", m.name),
                                                           ("description", m.description))
            for lang in LANGS if not text(lang).strip()]


@rule("C003", "every measure reads a declared entity; the metric splits by one")
def _entities(m: Metric) -> list[str]:
    named = [m.entity, *(ms.entity for ms in m.measures.values() if isinstance(ms.entity, str))]
    return [f"entity {e!r} is not declared" for e in dict.fromkeys(named)
            if e not in registry.ENTITIES]


@rule("C004", "period and cohort measures have a time column; snapshots an `active` rule")
def _times(m: Metric) -> list[str]:
    out = []
    for name, ms in m.measures.items():
        if ms.time_kind is Time.SNAPSHOT and ms.active is None:
            out.append(f"snapshot measure {name!r} has no active rule")
        if ms.time_kind is not Time.SNAPSHOT and ms.time is None:
            out.append(f"measure {name!r} has no time column")
        if ms.agg not in (Agg.COUNT,) and not callable(ms.agg) and ms.expr is None:
            out.append(f"measure {name!r} aggregates {ms.agg} of nothing (no expr)")
    return out


@rule("C005", "ratios, cohort conversions and growth rates give numerator and denominator")
def _ratio(m: Metric) -> list[str]:
    needs = m.kind in (Kind.RATIO, Kind.COHORT_CONVERSION, Kind.GROWTH)
    if needs and not m.is_ratio:
        return [f"a {m.kind} metric must be is_ratio"]
    if m.kind in (Kind.COUNT, Kind.SUM, Kind.SNAPSHOT, Kind.DURATION) and m.is_ratio:
        return [f"a {m.kind} metric is not a ratio"]
    return []


@rule("C006", "a cohort conversion follows cohorts over a window")
def _cohort(m: Metric) -> list[str]:
    cohort = m.time is Time.COHORT or any(ms.time_kind is Time.COHORT
                                          for ms in m.measures.values())
    if (m.kind is Kind.COHORT_CONVERSION) != cohort:
        return ["cohort measures belong to cohort-conversion metrics (time=cohort) only"]
    if cohort and not (m.time is Time.COHORT
                       and all(ms.time_kind is Time.COHORT for ms in m.measures.values())):
        return ["a cohort conversion's time and every measure's time_kind must be cohort"]
    return []


@rule("C007", "a snapshot is a state at each period's end")
def _snapshot(m: Metric) -> list[str]:
    if m.kind is Kind.SNAPSHOT and not all(ms.time_kind is Time.SNAPSHOT
                                           for ms in m.measures.values()):
        return ["every measure of a snapshot metric is a snapshot"]
    return []


@rule("C008", "a growth rate compares with the previous period")
def _growth(m: Metric) -> list[str]:
    if (m.kind is Kind.GROWTH) != (m.lag_periods > 0):
        return ["growth metrics (and only they) read the previous period (lag_periods ≥ 1)"]
    return []


@rule("C009", "units follow the kind")
def _units(m: Metric) -> list[str]:
    wanted = {Kind.COUNT: {Unit.COUNT}, Kind.DURATION: {Unit.DAYS, Unit.MONTHS},
              Kind.SCORE: {Unit.SCORE}, Kind.COHORT_CONVERSION: {Unit.RATIO},
              Kind.GROWTH: {Unit.RATIO}}.get(m.kind)
    if wanted and m.unit not in wanted:
        return [f"a {m.kind} metric is measured in {' or '.join(sorted(wanted))}, not {m.unit}"]
    return []


@rule("C010", "parameter names are unique and not also fixed")
def _params(m: Metric) -> list[str]:
    names = [p.name for p in m.params]
    out = [f"parameter {n!r} declared twice" for n in {n for n in names if names.count(n) > 1}]
    out += [f"parameter {n!r} is both offered and fixed" for n in m.fixed if n in names]
    return out


@rule("C011", "benchmark marks run in the metric's direction")
def _benchmark(m: Metric) -> list[str]:
    if m.benchmark is None:
        return []
    good, great = m.benchmark
    if (great >= good) != m.higher_is_better:
        return [f"benchmark {m.benchmark} runs against higher_is_better={m.higher_is_better}"]
    return []


def check(metric: Metric) -> list[Problem]:
    """Every rule's problems with one metric."""
    return [Problem(code, metric.id, message) for code, (_, run) in RULES.items()
            for message in run(metric)]


def check_all(metrics: Iterable[Metric]) -> list[Problem]:
    return [p for m in metrics for p in check(m)]
