"""A batch: the work several metric queries share, done once (tables, probes, aggregates).

Inside `Workspace.batch()` the queries of a dashboard, a summary or `metric a b c` keep what does
not change between them:

- `shared`: intermediate tables several metrics read (the leads' stage reach times, MRR
  movements, new customers), materialised once as temporary tables (DuckDB) and dropped when the
  batch ends. For a table each use reads once (`holds`: the reach times), when the batch's
  queries are announced (`fuse`) a survey first notes how many uses ask for it and what each
  reads of it (`needs`: reach stages), so that a table only one use asks for is not
  materialised (writing it costs more than reading it once) and a shared one holds what its
  uses read, not everything it could;
- `probes`: small yes/no answers about the data (is any amount in a foreign currency?);
- `grouped`: while `plan` collects the queries a batch will run, every grouped aggregate they ask
  for is noted by (rows, keys); each one that several queries need is then computed once with all
  their measures (`fuse`), and every query reads its part of it.

Nothing here knows metrics or entities: the compiler asks for shared tables and aggregates by key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
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
class Demand:
    """What the survey found of one shared table: how many times it was asked for, and the
    union of what those uses read of it."""

    uses: int = 0
    needs: set[Hashable] = field(default_factory=set)


@dataclass
class Batch:
    """The shared state of one batch (see the module doc). `materialise` says whether shared
    tables are cached as temporary tables (DuckDB) or left as expressions (other engines)."""

    materialise: bool = True
    tables: dict[Hashable, ibis.Table] = field(default_factory=dict)
    probes: dict[Hashable, bool] = field(default_factory=dict)
    plan: dict[Slot, Planned] | None = None
    fused: dict[Slot, Fused] = field(default_factory=dict)
    survey: dict[Hashable, Demand] | None = None  # while `fuse` surveys the queries
    demand: dict[Hashable, Demand] = field(default_factory=dict)  # what the survey found

    def shared(self, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
        """`build()`, materialised once under `key` (which must name everything the table
        depends on besides the workspace). A query may read it several times: it is made at
        its first use, survey or not (`holds` is for tables each use reads once)."""
        if not self.materialise:
            return build()
        return self.materialised(key, build)

    def materialised(self, key: Hashable, build: Callable[[], ibis.Table]) -> ibis.Table:
        """`build()` as a temporary table, made once under `key` (see `holds` for when)."""
        if key not in self.tables:
            self.tables[key] = build().cache()
        return self.tables[key]

    def holds(self, key: Hashable, needs: Iterable[Hashable],
              every: Collection[Hashable]) -> frozenset[Hashable] | None:
        """What the shared table under `key` is to hold (of `every` it could) when a use that
        reads `needs` of it is to read it; None when that use is to build its rows itself, as
        outside a batch: while the survey runs (the use is noted), when the survey saw the table
        asked for once, or needs it did not foresee. A table the survey never saw (queries run
        in a batch unannounced) holds `every`thing."""
        if not self.materialise:
            return None
        if self.survey is not None:
            demand = self.survey.setdefault(key, Demand())
            demand.uses += 1
            demand.needs.update(needs)
            return None
        planned = self.demand.get(key)
        if planned is None:
            return frozenset(every)
        if planned.uses < 2 or not planned.needs.issuperset(needs):
            return None
        return frozenset(planned.needs)

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
        aggregate that two or more of them need.

        The first run also surveys the shared tables the queries ask for, materialising none;
        when two or more uses ask for one, it is materialised and the queries are built again
        (reading it, their aggregates are others)."""
        if not self.materialise:
            return
        self.survey, self.plan = {}, {}
        try:
            build_all()
        finally:
            survey, plan, self.survey, self.plan = self.survey, self.plan, None, None
        fresh = {key: demand for key, demand in survey.items()
                 if key not in self.tables}  # one made before holds what it was made with
        self.demand.update(fresh)
        if any(demand.uses > 1 for demand in fresh.values()):
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
