"""A batch: the work several metric queries share, done once (tables, probes, aggregates).

Inside `Workspace.batch()` the queries of a dashboard, a summary or `metric a b c` keep what does
not change between them:

- `shared`: intermediate tables several metrics read (the leads' stage reach times, MRR
  movements, new customers), materialised once as temporary tables (DuckDB) and dropped when the
  batch ends;
- `probes`: small yes/no answers about the data (is any amount in a foreign currency?);
- `grouped`: while `plan` collects the queries a batch will run, every grouped aggregate they ask
  for is noted by (rows, keys); each one that several queries need is then computed once with all
  their measures (`fuse`), and every query reads its part of it.

Nothing here knows metrics or entities: the compiler asks for shared tables and aggregates by key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ibis

Slot = tuple[Any, tuple[str, ...]]  # (the rows' operation, the grouping keys)


@dataclass
class Planned:
    """While planning: the rows one grouping reads, how many queries group them, and every
    aggregate they want (by expression, so that equal ones are computed once)."""

    rows: ibis.Table
    uses: int = 0
    wanted: dict[Any, ibis.Value] = field(default_factory=dict)


@dataclass
class Fused:
    """An aggregate computed once for several queries: its table and each measure's column."""

    table: ibis.Table
    names: dict[Any, str]


@dataclass
class Batch:
    """The shared state of one batch (see the module doc). `materialise` says whether shared
    tables are cached as temporary tables (DuckDB) or left as expressions (other engines)."""

    materialise: bool = True
    tables: dict[Hashable, ibis.Table] = field(default_factory=dict)
    probes: dict[Hashable, bool] = field(default_factory=dict)
    plan: dict[Slot, Planned] | None = None
    fused: dict[Slot, Fused] = field(default_factory=dict)

    def shared(self, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
        """`build()`, materialised once under `key` (which must name everything the table
        depends on besides the workspace)."""
        if not self.materialise:
            return build()
        if key not in self.tables:
            self.tables[key] = build().cache()
        return self.tables[key]

    def probe(self, key: Hashable, answer: Callable[[], bool]) -> bool:
        """`answer()`, asked once per batch under `key`."""
        if key not in self.probes:
            self.probes[key] = answer()
        return self.probes[key]

    def grouped(self, rows: ibis.Table, keys: list[str],
                aggregates: Mapping[str, ibis.Value]) -> ibis.Table:
        """`rows.group_by(keys).aggregate(**aggregates)`, read from a fused aggregate when one
        holds every measure wanted; while planning, the wish is noted."""
        slot: Slot = (rows.op(), tuple(keys))
        if self.plan is not None:
            planned = self.plan.setdefault(slot, Planned(rows))
            planned.uses += 1
            planned.wanted.update((a.op(), a) for a in aggregates.values())
        done = self.fused.get(slot)
        if done is not None and all(a.op() in done.names for a in aggregates.values()):
            return done.table.select(*keys, **{n: done.table[done.names[a.op()]]
                                               for n, a in aggregates.items()})
        return rows.group_by(keys).aggregate(**aggregates)

    def fuse(self, build_all: Callable[[], None]) -> None:
        """Run `build_all` (which builds every query of the batch, executing nothing but the
        shared tables the builds need) while noting their aggregates; then compute once each
        aggregate that two or more of them need."""
        if not self.materialise:
            return
        self.plan = {}
        try:
            build_all()
        finally:
            plan, self.plan = self.plan, None
        for slot, planned in plan.items():
            if planned.uses < 2:  # one query alone: nothing to share
                continue
            names = {op: f"_f{i}" for i, op in enumerate(planned.wanted)}
            aggregates = {names[op]: value for op, value in planned.wanted.items()}
            table = self.shared(("fused", slot), lambda p=planned, k=list(slot[1]), a=aggregates:
                                p.rows.group_by(k).aggregate(**a))
            self.fused[slot] = Fused(table, names)

    def release(self) -> None:
        """Drop the temporary tables (the batch is over)."""
        for table in self.tables.values():
            table.release()
        self.tables.clear()
        self.fused.clear()
