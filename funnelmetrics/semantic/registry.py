"""The declared entities, and what follows from a declaration: an entity's rows as of an instant,
the dimensions it can be split or filtered by, and those dimensions attached to its rows.

Canonical entities are declared in `funnelmetrics.semantic.canonical`; derived ones (MRR
movements, new customers, credited revenue…) and derived columns (a lead's channel…) declare
themselves where they are built, with `declare` and `add_column`. Nothing here names them.

A dimension is a column of the entity itself, else of an entity it joins (`team` → the rep's
team); `account.industry`, `rep.team`, `lead.source` name one explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import ibis

from funnelmetrics.compile.time import to_local
from funnelmetrics.errors import QueryError
from funnelmetrics.schema import TABLES
from funnelmetrics.semantic.currency import to_reporting
from funnelmetrics.semantic.model import DerivedColumn, Entity, Join, Scope

ENTITIES: dict[str, Entity] = {}
COLUMNS: dict[str, dict[str, DerivedColumn]] = {}  # entity -> derived column name -> column


def declare(*entities: Entity) -> None:
    """Add entity declarations; declaring a name twice with another declaration is an error."""
    for entity in entities:
        known = ENTITIES.get(entity.name)
        if known is not None and known != entity:
            raise ValueError(f"entity {entity.name!r} declared twice")
        ENTITIES[entity.name] = entity


def add_column(entity: str, column: DerivedColumn) -> None:
    """Declare a derived column (a computed dimension) of an entity."""
    COLUMNS.setdefault(entity, {})[column.name] = column


def get(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise QueryError(f"unknown entity {name!r}; entities: {', '.join(sorted(ENTITIES))}") \
            from None


def owner(name: str) -> Entity:
    """The entity whose dimensions `name`'s rows have (itself, or its `dimensions_of`)."""
    entity = get(name)
    return get(entity.dimensions_of) if entity.dimensions_of else entity


def base(scope: Scope, name: str) -> ibis.Table:
    """The entity's own rows as of the scope's instant (amounts in the reporting currency)."""
    if name in scope.built:
        return scope.built[name]
    entity = ENTITIES.get(name)
    if entity is None:
        return scope.ws.table(name)
    if entity.rows is not None:
        t = entity.rows(scope)
    else:
        assert entity.table is not None, f"entity {name} has neither table nor rows"
        t = scope.ws.table(entity.table)
        if scope.as_of is not None and entity.as_of_time:
            t = t.filter(_as_of(scope, entity, t))
    if entity.currency is not None:
        t = to_reporting(scope, t, entity.currency.amounts, entity.currency.when, name)
        scope.built[name] = t  # probed once per scope
    return t


def _as_of(scope: Scope, entity: Entity, t: ibis.Table) -> ibis.Value:
    """Rows that exist at the scope's instant: an instant before it; a calendar date (a local
    day) that began before it in the workspace's zone."""
    column = entity.as_of_time
    assert column is not None and scope.as_of is not None
    if column not in entity.calendar_dates:
        return scope.before(t[column])
    local = to_local(ibis.literal(scope.as_of, "timestamp"), scope.ws.config.timezone)
    return t[column] < local


def _columns(scope: Scope, entity: Entity) -> list[str]:
    return scope.ws.columns(entity.table) if entity.table else []


def _user_columns(scope: Scope, entity: Entity) -> set[str]:
    """Columns of the user's own (extra attributes loaded with the table, SPEC §2)."""
    canonical = {c.name for c in TABLES[entity.table].columns} if entity.table in TABLES else set()
    return {c for c in _columns(scope, entity) if c not in canonical}


def dimensions(scope: Scope, name: str) -> list[str]:
    """Every dimension name the entity can be split or filtered by."""
    entity = owner(name)
    names = [c for c in _columns(scope, entity) if c not in entity.not_dimensions]
    for join in entity.joins:
        target = get(join.target)
        for col in _columns(scope, target):
            if col in target.not_dimensions or col == join.remote_key:
                continue
            names.append(f"{join.prefix}.{col}")
            if col not in names:
                names.append(col)
    names += [h.name for h in entity.history if h.name not in names]
    names += [n for n in COLUMNS.get(entity.name, {}) if n not in names]
    return names


def resolve(scope: Scope, name: str, dimension: str) -> tuple[Join | None, str]:
    """Where a dimension lives: (None, column) on the entity itself, or (join, column)."""
    entity = owner(name)
    own = _columns(scope, entity)
    if "." in dimension:
        prefix, col = dimension.split(".", 1)
        for join in entity.joins:
            if join.prefix == prefix and col in _columns(scope, get(join.target)):
                return join, col
        if entity.table and prefix == entity.table.rstrip("s") and col in own:
            return None, col
    elif dimension in own and dimension not in entity.not_dimensions:
        return None, dimension
    else:
        for join in entity.joins:
            if dimension in _columns(scope, get(join.target)) and dimension != join.remote_key:
                return join, dimension
    raise QueryError(f"unknown dimension {dimension!r} for {name}; available: "
                     f"{', '.join(dimensions(scope, name))}")


def derived_columns(scope: Scope, name: str, names: Iterable[str]) -> list[DerivedColumn]:
    """The derived columns among `names` (a user's own column of the same name wins)."""
    entity = owner(name)
    declared = COLUMNS.get(entity.name, {})
    users = _user_columns(scope, entity) if declared else set()
    return [declared[n] for n in names if n in declared and n not in users]


def history_names(name: str) -> set[str]:
    """The dimensions of `name` read at each period's end from an event table."""
    return {h.name for h in owner(name).history}


def with_dimensions(scope: Scope, name: str, t: ibis.Table, names: Iterable[str], *,
                    at_period_end: bool = False) -> ibis.Table:
    """`t` (rows of entity `name`) with a column `dim:NAME` for every requested dimension.
    With `at_period_end` (snapshot measures), dimensions over time are left for the compiler to
    attach per period (`History`); otherwise they are the entity's own column of that name."""
    names = list(dict.fromkeys(names))
    if at_period_end:
        names = [n for n in names if n not in history_names(name)]
    computed = derived_columns(scope, name, names)
    for column in computed:
        t = column.build(scope, t)
    names = [n for n in names if n not in {c.name for c in computed}]
    if not names:
        return t
    placed = {n: resolve(scope, name, n) for n in names}
    for join in sorted({j for j, _ in placed.values() if j is not None}, key=lambda j: j.prefix):
        cols = {f"{join.prefix}.{col}": col for j, col in placed.values() if j == join}
        other = scope.ws.table(get(join.target).table or join.target)
        right = other.select(_jk=other[join.remote_key], **{k: other[v] for k, v in cols.items()})
        t = t.left_join(right, t[join.local_key] == right._jk).drop("_jk")
    return t.mutate(**{f"dim:{n}": (t[col] if j is None else t[f"{j.prefix}.{col}"])
                       .cast("string") for n, (j, col) in placed.items()})


def dim_columns(names: Iterable[str]) -> list[str]:
    return [f"dim:{n}" for n in names]


def apply_where(t: ibis.Table, where: Mapping[str, object],
                skip: Iterable[str] = ()) -> ibis.Table:
    """Filter on `dim:NAME` columns: a value, or a list of values (any of them); the
    dimensions in `skip` are filtered later (dimensions over time, per period)."""
    skipped = set(skip)
    for name, wanted in where.items():
        if name in skipped:
            continue
        col = t[f"dim:{name}"]
        values = wanted if isinstance(wanted, list | tuple | set) else [wanted]
        texts = [str(v) for v in values if v is not None]
        cond = col.isin(texts) if texts else ibis.literal(False)
        if any(v is None for v in values):
            cond = cond | col.isnull()
        t = t.filter(cond)
    return t
