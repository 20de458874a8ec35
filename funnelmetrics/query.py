"""A metric query (SPEC §5): metric id, grain, `by`, start/end, `where`, parameters, as-of.

`metric_expr` builds the expression; `run_metric` executes it and returns pandas, Polars or Arrow.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis

from funnelmetrics import catalog
from funnelmetrics.catalog.model import Metric
from funnelmetrics.compile.batch import Batch
from funnelmetrics.compile.compiler import compile_metric, entity_of
from funnelmetrics.compile.context import Context
from funnelmetrics.compile.time import (
    Grain,
    Window,
    check_year,
    floor,
    parse_date,
    parse_grain,
    parse_instant,
    shift,
    to_local,
)
from funnelmetrics.compile.values import ColumnsProxy
from funnelmetrics.config import Funnel, Mode
from funnelmetrics.errors import QueryError
from funnelmetrics.options import parse_pairs  # noqa: F401  (re-exported)
from funnelmetrics.semantic import registry
from funnelmetrics.semantic.model import Scope

if TYPE_CHECKING:
    from funnelmetrics.connection import Connection as Workspace

STAGE_PARAMS = ("stage", "from_stage", "to_stage")
MAX_WINDOW_DAYS = 3650  # a `*_days` parameter: 0 < days <= ten years
MAX_PERIODS = 20_000  # periods in one query (days over 54 years)


@dataclass
class MetricQuery:
    """The parsed, validated form of one metric request."""

    metric: Metric
    grain: Grain = Grain.MONTH
    by: list[str] = field(default_factory=list)
    start: dt.date | None = None
    end: dt.date | None = None
    where: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    as_of: dt.datetime | None = None


def parse_query(ws: Workspace, metric_id: str, *, grain: str | Grain = "month",
                by: str | Sequence[str] | None = None, start: Any = None, end: Any = None,
                where: Mapping[str, Any] | str | Sequence[str] | None = None,
                as_of: Any = None, params: Mapping[str, Any] | None = None, **more_params: Any) -> MetricQuery:
    metric = catalog.get(metric_id)
    dims = [by] if isinstance(by, str) else list(by or [])
    dims = [part.strip() for d in dims for part in d.split(",") if part.strip()]
    dims = list(dict.fromkeys(dims))  # a repeated dimension is the same split
    start_d, end_d = parse_date(start, "start"), parse_date(end, "end")
    grain_ = parse_grain(grain)
    check_year("start", start_d)
    if grain_ is not Grain.ALL or (end_d is not None and end_d >= dt.date.max):
        check_year("end", end_d)  # one period (grain all) may run to "every day" (9999-12-30)
    if start_d and end_d and end_d < start_d:
        raise QueryError(f"end {end_d} is before start {start_d}")
    if isinstance(where, str | list | tuple):  # "segment=SMB" text, as on the command line
        where = parse_pairs([where] if isinstance(where, str) else list(where), "where")
    elif where is not None and not isinstance(where, Mapping):
        raise QueryError(f"where takes a mapping or KEY=VALUE text, not {where!r}")
    given = {**(params or {}), **more_params}
    moment = parse_instant(as_of, ws.config.timezone)
    check_year("as_of", moment)
    return MetricQuery(metric=metric, grain=grain_, by=dims, start=start_d,
                       end=end_d, where=dict(where or {}),
                       params=resolve_params(ws, metric, given), as_of=moment)


def _check_number(metric: Metric, name: str, value: Any) -> None:
    """A number parameter is finite; a `*_days` one lies in (0, MAX_WINDOW_DAYS]."""
    if not math.isfinite(value):
        raise QueryError(f"{metric.id}: {name} must be a finite number, not {value!r}")
    if name.endswith("_days") and not 0 < value <= MAX_WINDOW_DAYS:
        raise QueryError(f"{metric.id}: {name} must be more than 0 and at most "
                         f"{MAX_WINDOW_DAYS} days, not {value:g}")


def _stage_keyword(ws: Workspace, value: Any) -> Any:
    funnel = ws.config.funnel()
    keywords = {":first": funnel.first, ":last": funnel.last,
                ":qualified": ws.config.qualified_stage}
    return keywords.get(value, value) if isinstance(value, str) else value


def resolve_params(ws: Workspace, metric: Metric, given: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters with defaults filled in, parsed and checked; unknown ones are an error."""
    known = {p.name: p for p in metric.params}
    for name in given:
        if name not in known:
            allowed = ", ".join(known) or "none"
            raise QueryError(f"{metric.id} has no parameter {name!r} (parameters: {allowed})")
    out: dict[str, Any] = {k: _stage_keyword(ws, v)
                           for k, v in metric.fixed.items()}
    for name, param in known.items():
        if name in given and given[name] is not None:
            value = param.parse(given[name])
            if param.kind == "number":
                _check_number(metric, name, value)
            if param.choices and value not in param.choices:
                raise QueryError(f"{metric.id}: {name} must be one of "
                                 f"{', '.join(param.choices)}, not {value!r}")
            out[name] = value
        elif name not in out:
            out[name] = _stage_keyword(ws, param.default)
    _default_stages(ws, metric, out)
    return out


def _default_stages(ws: Workspace, metric: Metric, params: dict[str, Any]) -> None:
    config = ws.config
    for name in STAGE_PARAMS:
        value = params.get(name)
        if value is not None and value not in config.stages:
            raise QueryError(f"{metric.id}: unknown stage {value!r} for {name}; stages: "
                             f"{', '.join(config.stages)}")
    if "stage" in params and params["stage"] is None:
        params["stage"] = config.funnel().stages[1]
    if "from_stage" in params or "to_stage" in params:
        anchor = params.get("from_stage") or params.get("to_stage")
        funnel = config.funnel_of(anchor) if anchor else config.funnel()
        if params.get("from_stage") is None:
            params["from_stage"] = funnel.first
        if params.get("to_stage") is None:
            k = funnel.index(params["from_stage"])
            params["to_stage"] = funnel.stages[min(k + 1, len(funnel.stages) - 1)]
        if config.funnel_of(params["to_stage"]) != config.funnel_of(params["from_stage"]):
            raise QueryError(f"{metric.id}: {params['from_stage']} and {params['to_stage']} "
                             "are stages of different funnels")
        if funnel.index(params["to_stage"]) < funnel.index(params["from_stage"]):
            raise QueryError(f"{metric.id}: to_stage {params['to_stage']} comes before "
                             f"from_stage {params['from_stage']}")


def _funnel_of(ws: Workspace, params: Mapping[str, Any]) -> Funnel:
    for name in STAGE_PARAMS:
        if params.get(name):
            return ws.config.funnel_of(params[name])
    return ws.config.funnel()


def _context(ws: Workspace, q: MetricQuery, window: Window) -> Context:
    now = q.as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ctx = Context(scope=Scope(ws, as_of=q.as_of), config=ws.config, window=window, by=q.by,
                  where=q.where, params=q.params, instant=now,
                  mode=Mode(q.params.get("mode") or ws.config.mode),
                  funnel=_funnel_of(ws, q.params))
    ctx.reach_stages = reach_stages(ctx, q.metric)
    return ctx


def reach_stages(ctx: Context, metric: Metric) -> set[str] | None:
    """The stages whose reach times the metric's measures read (None: every stage), as its
    definition says (`Measure.reach_stages`)."""
    out: set[str] = set()
    for m in metric.measures.values():
        stages = m.reach_stages(ctx)
        if stages is None:
            return None
        out |= stages
    return out


def _spans(probe: Context, metric: Metric) -> set[tuple[str, str]]:
    """Where the metric's rows have instants (entity, column), for its default range."""
    out: set[tuple[str, str]] = set()
    for m in metric.measures.values():
        entity = registry.get(entity_of(probe, m))
        time = m.time(probe) if callable(m.time) else m.time
        if entity.span_of is not None:
            out.update(entity.span_of(probe, time))
        elif time is None or entity.from_query is not None:
            out.update(entity.span)
        else:
            out.add((entity.name, time))
    return out


def _default_range(ws: Workspace, q: MetricQuery) -> tuple[dt.date, dt.date, bool]:
    """Whole periods from the first to the last instant the metric's rows have, and whether
    "today" stood in for them (the metric has no rows and no as-of instant was given)."""
    tz = ws.config.timezone
    probe = _context(ws, q, Window(q.grain, dt.date(2000, 1, 1), dt.date(2000, 1, 1), tz))
    lows, highs = [], []
    for table_name, column in sorted(_spans(probe, q.metric)):
        table = registry.base(probe.scope, table_name)
        if column not in table.columns:
            continue
        calendar = column in registry.get(table_name).calendar_dates if \
            table_name in registry.ENTITIES else False
        # a calendar date is its own local day; an instant is read in the workspace's zone
        local = table[column] if calendar else to_local(table[column], tz)
        ((lo, hi),) = ws.ask(table.aggregate(lo=local.min(), hi=local.max()))
        if lo is not None:
            lows.append(_day(lo))
            highs.append(_day(hi))
    today = (q.as_of or dt.datetime.now(dt.UTC).replace(tzinfo=None)).date()
    used_today = not lows and q.as_of is None
    if not lows:
        lows, highs = [today], [today]
    start = q.start or min(lows)
    if q.end is not None:
        end = q.end
    elif q.grain is Grain.ALL:
        end = max(highs)
    else:
        end = shift(floor(max(highs), q.grain), q.grain) - dt.timedelta(days=1)
    return start, max(end, start), used_today


def _day(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def build(ws: Workspace, q: MetricQuery) -> ibis.Table:
    return build_with_context(ws, q)[0]


def build_with_context(ws: Workspace, q: MetricQuery, *, now_sql: ibis.Value | None = None
                       ) -> tuple[ibis.Table, Context, bool]:
    """The expression, the context it was compiled in, and whether "today" chose its range;
    `now_sql` stands for the query's instant in the SQL (see `compile.sqlcache`)."""
    tz = ws.config.timezone
    used_today = False
    if q.start is None or q.end is None:
        start, end, used_today = _default_range(ws, q)
    else:
        start, end = q.start, q.end
    _check_periods(q.grain, start, end)
    window = Window(q.grain, start, end, tz)
    ctx = _context(ws, q, window)
    ctx.now_sql = now_sql
    return compile_metric(ctx, q.metric), ctx, used_today


def _check_periods(grain: Grain, start: dt.date, end: dt.date) -> None:
    """Not hundreds of thousands of periods (weeks to the year 9998): a user error, not a hang."""
    days = {Grain.DAY: 1, Grain.WEEK: 7, Grain.MONTH: 28, Grain.QUARTER: 90, Grain.YEAR: 365}
    if grain in days and (end - start).days / days[grain] > MAX_PERIODS:
        raise QueryError(f"{grain.value} periods from {start} to {end} are more than "
                         f"{MAX_PERIODS:,}; use a coarser grain or a shorter range")


def query_range(ws: Workspace, metric_id: str, **query: Any) -> tuple[dt.date, dt.date]:
    """The first and last day a metric query covers, its defaults filled in (whole periods from
    the first to the last instant the metric's rows have)."""
    q = parse_query(ws, metric_id, **query)
    if q.start is None or q.end is None:
        return _default_range(ws, q)[:2]
    return q.start, q.end


def metric_expr(ws: Workspace, metric_id: str, **query: Any) -> ibis.Table:
    if ws.batch_state is None:  # a batch checked once, at its start
        ws.refresh()
    return build(ws, parse_query(ws, metric_id, **query))


def run_metric(ws: Workspace, metric_id: str, *, output: str = "pandas", **query: Any) -> Any:
    """Execute a metric query; `output` is pandas (default), polars or arrow. Outside a batch
    a DuckDB workspace answers pandas from the query's kept SQL (`kept_frame`; a batch shares
    its work between queries instead)."""
    if output == "pandas" and ws.batch_state is None:
        df = kept_frame(ws, metric_id, **query)
        if df is not None:
            return df
    expr = metric_expr(ws, metric_id, **query)
    if output == "arrow":
        return expr.to_pyarrow()
    if output == "polars":
        return expr.to_polars()
    if output != "pandas":
        raise QueryError(f"output must be pandas, polars or arrow, not {output!r}")
    return expr.to_pyarrow().to_pandas(date_as_object=True)


# ---- standalone SQL, kept ---------------------------------------------------------------------
def standalone_sql(ws: Workspace, expr: ibis.Table, *, pretty: bool = True) -> str:
    """An expression's SQL, runnable as it is (`duckdb funnel.duckdb < query.sql`): the small
    tables Ibis keeps in the session (the period spine) written out as VALUES lists. Not
    `pretty`: on one line, as the backend compiles a query to run it (laying out a metric's
    SQL for people to read costs about as much as compiling it)."""
    import ibis.expr.operations as ops

    sql = str(ibis.to_sql(expr, dialect=ws.con.name)) if pretty else ws.con.compile(expr)
    for table in expr.op().find(ops.InMemoryTable):
        sql = sql.replace(f'"{table.name}"', _values_table(table))
    return sql


def _values_table(table: Any) -> str:
    """A session table as a subquery of VALUES, each column cast to its type."""
    from ibis.backends.sql.datatypes import DuckDBType

    def literal(v: Any) -> str:
        if v is None or v != v:  # None, NaN, NaT
            return "NULL"
        if isinstance(v, dt.datetime):
            return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
        if isinstance(v, dt.date):
            return f"DATE '{v.isoformat()}'"
        if isinstance(v, bool | int | float):
            return repr(v).upper() if isinstance(v, bool) else repr(v)
        return "'" + str(v).replace("'", "''") + "'"

    names = list(table.schema.names)
    if isinstance(table.data, ColumnsProxy):  # Python values already: no pandas
        records: Any = table.data.rows(names)
    else:
        records = table.data.to_frame()[names].itertuples(index=False)
    rows = [[literal(v.to_pydatetime() if hasattr(v, "to_pydatetime") else v) for v in rec]
            for rec in records]
    cols = ", ".join(f'"c{i}"' for i in range(len(names)))
    casts = ", ".join(f'CAST("c{i}" AS {DuckDBType.to_string(t)}) AS "{n}"'
                      for i, (n, t) in enumerate(zip(names, table.schema.types, strict=True)))
    if not rows:  # no row: the columns and their types alone
        return f"(SELECT {casts} FROM (SELECT {', '.join('NULL' for _ in names)}) AS v({cols}) " \
               "WHERE FALSE)"
    values = ",\n    ".join("(" + ", ".join(r) + ")" for r in rows)
    return f"(SELECT {casts} FROM (VALUES\n    {values}) AS v({cols}))"


@contextmanager
def _on_its_own(ws: Workspace) -> Iterator[None]:
    """Compile outside the running batch (naming none of its tables), in one that shares only
    the answers of probes: a question both the default range and the query ask (a currency
    probe) is asked once. The schema is checked unless a batch checked it at its start."""
    state = ws.batch_state
    ws.batch_state = Batch(materialise=False)  # nothing shared, materialised or fused
    try:
        if state is None:
            ws.refresh()
        yield
    finally:
        ws.batch_state = state


def once_query(ws: Workspace, metric_id: str, **query: Any) -> Any:
    """The query compiled on its own (outside any batch) with its values in the SQL, as a
    `compile.sqlcache.Entry` to run once through DuckDB itself (`sqlcache.run`), or None on
    another engine: a request that is not kept is answered without Ibis's execute, which loads
    pandas and pyarrow (more than a small metric's whole answer costs)."""
    from funnelmetrics.compile import sqlcache

    if not ws.is_duckdb:
        return None
    with _on_its_own(ws):
        expr = build(ws, parse_query(ws, metric_id, **query))
    schema = expr.schema()
    return sqlcache.Entry(sql=standalone_sql(ws, expr, pretty=False), columns=list(schema.names),
                          types=[str(t) for t in schema.types])


WHERE_MARK = "__FmWhere{}Q__"  # mixed case: a value changed by Python (lower()) is not found
NOW_MARK = dt.datetime(2999, 12, 31, 23, 59, 58, 987654)


def kept_query(ws: Workspace, metric_id: str, *, limit: int | None = None,
               info: Mapping[str, Any] | None = None, **query: Any) -> Any:
    """The query as a `compile.sqlcache.Entry` (DuckDB only): compiled on its own (outside any
    batch) with the `where` values and the instant as placeholders; None when it cannot be
    kept (a value Python code decided with, a `where` that is not text)."""
    from funnelmetrics.compile import sqlcache

    if not ws.is_duckdb:
        return None
    where = query.get("where")
    if where is not None and not isinstance(where, Mapping):
        return None
    split = sqlcache.split_where(where)
    if split is None:
        return None
    values = split[1]
    marks = iter([WHERE_MARK.format(i) for i in range(len(values))])
    marked = {dim: [next(marks) for _ in wanted] if isinstance(wanted, list | tuple)
              else next(marks) for dim, wanted in (where or {}).items()}
    now_sql = None if query.get("as_of") is not None else ibis.literal(NOW_MARK)
    with _on_its_own(ws), _probes_recorded(ws) as probes:
        q = parse_query(ws, metric_id, **{**query, "where": marked})
        expr, ctx, used_today = build_with_context(ws, q, now_sql=now_sql)
    if None in probes:  # a question whose SQL cannot be asked again on its own
        return None
    if limit is not None:
        expr = expr.limit(limit)
    sql = standalone_sql(ws, expr, pretty=False)
    binds_now = False
    if now_sql is not None:
        text = _literal_sql(ws, NOW_MARK)
        binds_now = text in sql
        sql = sql.replace(text, sqlcache.NOW)
        if "2999" in sql:  # the instant went into the SQL some other way
            return None
    for i in range(len(values)):
        mark = WHERE_MARK.format(i)
        sql = sql.replace(f"'{mark}'", sqlcache.where_placeholder(i))
        if mark in sql or sqlcache.where_placeholder(i) not in sql:
            return None
    schema = expr.schema()
    day = None
    if query.get("as_of") is None and (ctx.now_read or used_today):
        instant = ctx.instant
        day = [instant.date().isoformat(), sqlcache._local_date(instant, ws.config.timezone)]
    schema_probe = [sqlcache.SCHEMA_PROBE, sqlcache.ask(ws.con.con, sqlcache.SCHEMA_PROBE)]
    return sqlcache.Entry(sql=sql, columns=list(schema.names),
                          types=[str(t) for t in schema.types], where_params=len(values),
                          binds_now=binds_now, day=day, timezone=ws.config.timezone,
                          info=dict(info or {}), probes=[schema_probe, *probes])


@contextmanager
def _probes_recorded(ws: Workspace) -> Iterator[list[Any]]:
    """Every question the compiler asks the database meanwhile — an expression executed through
    the workspace's Ibis backend (a currency probe) or asked through DuckDB itself (`ws.ask`: a
    default range's first and last days) — as [its SQL, its answer]; None for one whose SQL
    cannot run on its own (a session table)."""
    import ibis.expr.operations as ops

    from funnelmetrics.compile import sqlcache

    con, found = ws.con, []
    execute, to_pyarrow = con.execute, con.to_pyarrow

    def record(expr: Any) -> None:
        try:
            if expr.op().find(ops.InMemoryTable):
                raise ValueError("a session table")
            sql = str(ibis.to_sql(expr, dialect=con.name))
            found.append([sql, sqlcache.ask(con.con, sql)])
        except Exception:  # not askable again: the entry is not kept
            found.append(None)

    def recorded(run: Any) -> Any:
        def ask(expr: Any, *args: Any, **kwargs: Any) -> Any:
            record(expr)
            return run(expr, *args, **kwargs)
        return ask

    con.execute, con.to_pyarrow = recorded(execute), recorded(to_pyarrow)
    asked, ws.asked = ws.asked, []  # and those asked through DuckDB itself (`ws.ask`)
    try:
        yield found
    finally:
        del con.execute, con.to_pyarrow  # the backend's own methods again
        found.extend([sql, sqlcache.answer_text(rows)] for sql, rows in ws.asked)
        ws.asked = asked


def kept_frame(ws: Workspace, metric_id: str, *, surface: str = "pandas",
               limit: int | None = None, **query: Any) -> Any:
    """The query's answer as pandas (as `run_metric` gives it) from its kept SQL — compiled and
    kept the first time (`kept_query`) — or None when it cannot be kept (then compile it as
    usual). `surface` and `limit` are part of the key (the SQL ends with the limit)."""
    from funnelmetrics.compile import sqlcache

    if not ws.is_duckdb or not sqlcache.enabled():
        return None
    where = query.get("where")
    stamp = sqlcache.workspace_stamp(ws.location)
    split = sqlcache.split_where(where) if where is None or isinstance(where, Mapping) else None
    if stamp is None or split is None:
        return None
    k = sqlcache.key(stamp, f"{surface}:{limit}", metric_id, query, split[0])
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    entry = sqlcache.lookup(k, now)
    if entry is not None and not sqlcache.confirm(ws.con.con, k, entry, ws.location):
        entry = None  # the data changed what compiling it asked
    if entry is None:
        entry = kept_query(ws, metric_id, limit=limit, **query)
        if entry is None:
            return None
        sqlcache.store(k, entry)
    table = ws.con.con.execute(entry.text(split[1], now)).to_arrow_table()
    return table.to_pandas(date_as_object=True)


def _literal_sql(ws: Workspace, value: Any) -> str:
    """How the backend's SQL writes a literal (e.g. MAKE_TIMESTAMP(…) in DuckDB)."""
    text = str(ibis.to_sql(ibis.literal(value).name("x"), dialect=ws.con.name, pretty=False))
    return text.split("SELECT", 1)[1].rsplit(" AS ", 1)[0].strip()
