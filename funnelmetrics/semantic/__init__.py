"""The semantic model (MetricFlow's semantic models): one declaration per entity — the rows
metrics aggregate, with their keys, times, joins, dimensions and derived columns.

- `model`: what a declaration is (`Entity`, `Join`, `DerivedColumn`, `History`, `Currency`) and
  the `Scope` rows are seen in;
- `registry`: the declared entities and what follows from them (rows as of an instant,
  dimensions, dimension columns, filters);
- `canonical`: the tables of SPEC §2; `reach`: when each lead reached each stage;
- `currency`: amounts in the reporting currency.

Derived entities declare themselves where they are built (`funnelmetrics.revenue.mrr`…).
"""

from funnelmetrics.semantic import canonical as canonical  # declares the canonical entities
from funnelmetrics.semantic.model import (
    Currency,
    DerivedColumn,
    Entity,
    History,
    Join,
    Scope,
)
from funnelmetrics.semantic.registry import add_column, declare, get

__all__ = ["Currency", "DerivedColumn", "Entity", "History", "Join", "Scope", "add_column",
           "declare", "get"]
