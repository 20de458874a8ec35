"""`metrics`, `metric`, `funnel` and `glossary`: the catalogue from the terminal (SPEC §5)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from funnelmetrics.cli.app import (
    DEFAULT_DB,
    AsOfOption,
    DbOption,
    FormatOption,
    OutputFormat,
    app,
    console,
    handle_errors,
    open_workspace,
)
from funnelmetrics.cli.render import print_csv, print_json_line, print_table, show
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.ui import choose_lang

if TYPE_CHECKING:
    import pandas as pd


GrainOption = Annotated[str, typer.Option("--grain", help="day, week, month, quarter, year, all.")]
ByOption = Annotated[list[str] | None, typer.Option(
    "--by", help="Split by a dimension (repeatable), e.g. source, rep.team, account.industry.")]
StartOption = Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD).")]
EndOption = Annotated[str | None, typer.Option("--end", help="Last day, inclusive.")]
WhereOption = Annotated[list[str] | None, typer.Option(
    "--where", help="Filter DIM=VALUE (repeatable; the same DIM twice means either value).")]
ParamOption = Annotated[list[str] | None, typer.Option(
    "--param", help="Metric parameter KEY=VALUE, e.g. from_stage=mql (repeatable).")]
LangOption = Annotated[str | None, typer.Option("--lang", help="en, id or ms.")]


def _catalogue_lang(db: Any, lang: str | None) -> str:
    """The language of a catalogue listing: --lang, else $FUNNELMETRICS_LANG, else the
    workspace's locale when there is a workspace at --db (the catalogue itself needs none),
    else English."""
    locale = None
    if lang is None and "://" not in str(db) and Path(db).exists():
        from funnelmetrics.config import load_config  # the settings beside it, not the data

        locale = load_config(Path(db).parent).locale
    return choose_lang(lang, locale)


@app.command("metrics")
@handle_errors
def metrics_cmd(db: DbOption = DEFAULT_DB, fmt: FormatOption = OutputFormat.table,
                lang: LangOption = None) -> None:
    """List the metric catalogue."""
    import pandas as pd

    from funnelmetrics import catalog

    lang = _catalogue_lang(db, lang)
    rows = [{"id": m.id, "name": m.name(lang), "unit": m.unit.value, "group": m.group,
             "better": "higher" if m.higher_is_better else "lower",
             "parameters": ", ".join(p.name for p in m.params)} for m in catalog.all_metrics()]
    show(pd.DataFrame(rows), fmt, title="Metric catalogue", wrap=("name", "parameters"),
         secondary=("better", "group"))


@app.command("metric")
@handle_errors
def metric_cmd(
    names: Annotated[list[str], typer.Argument(help="One or more metric ids.")],
    db: DbOption = DEFAULT_DB,
    grain: GrainOption = "month",
    by: ByOption = None,
    start: StartOption = None,
    end: EndOption = None,
    where: WhereOption = None,
    param: ParamOption = None,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
    explain: Annotated[bool, typer.Option("--explain", help="Print the SQL instead.")] = False,
    lang: LangOption = None,
) -> None:
    """Compute metrics by period (and dimension).

    Each row ends with `partial` (the period is not over at --as-of, or now), after `immature`
    for cohort metrics; a table marks such periods with * and † and explains the marks below.
    """
    from funnelmetrics.catalog.model import Time
    from funnelmetrics.query import parse_pairs

    query = {"grain": grain, "by": by or [], "start": start, "end": end,
             "where": parse_pairs(where, "--where"), "as_of": as_of}
    params = parse_pairs(param, "--param")
    metrics = [_metric(name) for name in names]
    cohort = any(m.time is Time.COHORT for m in metrics)
    taken = {p.name for m in metrics for p in m.params}
    unknown = set(params) - taken
    if unknown:
        key = sorted(unknown)[0]
        raise QueryError(f"no metric here takes parameter {key!r}{did_you_mean(key, taken)}")
    owns = [{k: v for k, v in params.items() if metric.param(k) is not None}
            for metric in metrics]
    with open_workspace(db, read_only=True) as ws, ws.batch():  # shared work done once
        lang = choose_lang(lang, ws.config.locale)
        owns = [_stages_as_configured(ws, own) for own in owns]
        if not explain and len(names) > 1:  # one query has nothing to share: build it once
            ws.prepare([(name, {"params": own, **query}) for name, own in zip(names, owns,
                                                                             strict=True)])
        for i, (name, metric, own) in enumerate(zip(names, metrics, owns, strict=True)):
            if explain:
                sql = _explain(ws, name, params=own, **query)
                if console.is_terminal:
                    from rich.syntax import Syntax

                    console.print(f"-- {name}", highlight=False)
                    console.print(Syntax(sql, "sql", word_wrap=True))
                else:  # piped: the exact SQL, never cropped to a terminal width
                    print(f"-- {name}\n{sql}", flush=True)
                continue
            df = ws.metric(name, params=own, **query)
            _print_metric(ws, metric, df, fmt, lang, header=i == 0, cohort=cohort)


def did_you_mean(word: str, choices: Any) -> str:
    """ "; did you mean 'x'?" for the closest of `choices`, or "" when none is close."""
    import difflib

    close = difflib.get_close_matches(word.lower(), sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _metric(name: str) -> Any:
    """The catalogue entry, or one line naming the closest metric id."""
    from funnelmetrics import catalog

    try:
        return catalog.get(name)
    except QueryError:
        ids = [m.id for m in catalog.all_metrics()]
        hint = did_you_mean(name, ids) or "; see `funnelmetrics metrics` for the catalogue"
        raise QueryError(f"unknown metric {name!r}{hint}") from None


STAGE_PARAMS = ("stage", "from_stage", "to_stage")


def _stages_as_configured(ws: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Stage parameters match the configured stages whatever their case (as ingest does):
    `--param from_stage=MQL` is the stage `mql`."""
    spelled = {s.lower(): s for s in ws.config.stages}
    return {k: spelled.get(v.lower(), v) if k in STAGE_PARAMS and isinstance(v, str) else v
            for k, v in params.items()}


def _explain(ws: Any, metric_id: str, **query: Any) -> str:
    """The SQL of a metric query, runnable as it is (`duckdb funnel.duckdb < query.sql`): the
    small tables Ibis keeps in the session (the period spine) written out as VALUES lists."""
    import ibis
    import ibis.expr.operations as ops

    state, ws.batch_state = ws.batch_state, None  # on its own, not naming a batch's tables
    try:
        expr = ws.expr(metric_id, **query)
    finally:
        ws.batch_state = state
    sql = str(ibis.to_sql(expr, dialect=ws.con.name))
    for table in expr.op().find(ops.InMemoryTable):
        sql = sql.replace(f'"{table.name}"', _values_table(table))
    return sql


def _values_table(table: Any) -> str:
    """A session table as a subquery of VALUES, each column cast to its type."""
    import datetime as dt

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
    frame = table.data.to_frame()
    rows = [[literal(v.to_pydatetime() if hasattr(v, "to_pydatetime") else v) for v in rec]
            for rec in frame[names].itertuples(index=False)]
    cols = ", ".join(f'"c{i}"' for i in range(len(names)))
    casts = ", ".join(f'CAST("c{i}" AS {DuckDBType.to_string(t)}) AS "{n}"'
                      for i, (n, t) in enumerate(zip(names, table.schema.types, strict=True)))
    if not rows:  # no row: the columns and their types alone
        return f"(SELECT {casts} FROM (SELECT {', '.join('NULL' for _ in names)}) AS v({cols}) " \
               "WHERE FALSE)"
    values = ",\n    ".join("(" + ", ".join(r) + ")" for r in rows)
    return f"(SELECT {casts} FROM (VALUES\n    {values}) AS v({cols}))"


def _print_metric(ws: Any, metric: Any, df: pd.DataFrame, fmt: OutputFormat, lang: str,
                  header: bool, cohort: bool) -> None:
    from funnelmetrics.serialize import metric_frame, metric_json

    if fmt is OutputFormat.json:
        print_json_line(metric_json(metric.id, metric.unit.value, df))
        return
    # CSV of several metrics is one table: the same columns each time (immature when any is
    # a cohort metric)
    df = metric_frame(df, immature=fmt is OutputFormat.csv and cohort)
    if fmt is OutputFormat.csv:
        print_csv(df, extra={"metric": metric.id, "unit": metric.unit.value}, header=header)
    else:
        units = {"value": metric.display_unit}
        if metric.is_ratio and metric.unit.value == "ratio":
            units.update(numerator="count", denominator="count")
        elif metric.is_ratio and metric.display_unit == "currency":  # an amount per thing
            units.update(numerator="currency", denominator="count")
        title = f"{metric.name(lang)} ({metric.id}, {metric.unit.value})"
        shown = df if metric.is_ratio else df.drop(columns=["numerator", "denominator"])
        print_table(shown, title=title, units=units, lang=lang, currency=ws.config.currency)


@app.command("funnel")
@handle_errors
def funnel_cmd(
    db: DbOption = DEFAULT_DB,
    start: StartOption = None,
    end: EndOption = None,
    funnel: Annotated[str | None, typer.Option("--funnel", help="Funnel name.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Split by a dimension.")] = None,
    where: WhereOption = None,
    mode: Annotated[str | None, typer.Option("--mode", help="cumulative or strict.")] = None,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = None,
) -> None:
    """Each stage for a period: reached, conversion to next, drop-off, median days in stage.

    Without --start/--end: the last full quarter.
    """
    from funnelmetrics.funnel import funnel_table
    from funnelmetrics.query import parse_pairs

    with open_workspace(db, read_only=True) as ws:
        lang = choose_lang(lang, ws.config.locale)
        df = funnel_table(ws, start=start, end=end, funnel=funnel, by=by,
                       where=parse_pairs(where, "--where"), as_of=as_of, mode=mode)
        units = {"reached": "count", "converted_to_next": "count", "conversion_to_next": "ratio",
                 "drop_off": "ratio", "median_days_in_stage": "days"}
        envelope = {"funnel": ws.config.funnel(funnel).name, "start": start, "end": end}
        show(df, fmt, title=f"Funnel: {ws.config.funnel(funnel).name}", units=units,
             json_envelope=envelope, lang=lang)


@app.command("glossary")
@handle_errors
def glossary_cmd(db: DbOption = DEFAULT_DB, lang: LangOption = None,
                 fmt: FormatOption = OutputFormat.table) -> None:
    """Every metric's definition, in en, id or ms."""
    import pandas as pd

    from funnelmetrics import catalog

    lang = _catalogue_lang(db, lang)
    rows = [{"id": m.id, "name": m.name(lang), "unit": m.unit.value,
             "definition": m.description(lang), "formula": m.formula}
            for m in catalog.all_metrics()]
    if fmt is not OutputFormat.table:
        show(pd.DataFrame(rows), fmt)
        return
    for row in rows:
        console.print(f"[bold]{row['name']}[/] [dim]({row['id']}, {row['unit']})[/]")
        console.print(f"  {row['definition']}", highlight=False)
        if row["formula"]:
            console.print(f"  [dim]= {row['formula']}[/]", highlight=False)
