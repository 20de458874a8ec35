"""`metrics`, `metric`, `funnel` and `glossary`: the catalogue from the terminal (SPEC §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

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
    from funnelmetrics import catalog
    from funnelmetrics.serialize import Rows

    lang = _catalogue_lang(db, lang)
    rows = [{"id": m.id, "name": m.name(lang), "unit": m.unit.value, "group": m.group,
             "better": "higher" if m.higher_is_better else "lower",
             "parameters": ", ".join(p.name for p in m.params)} for m in catalog.all_metrics()]
    show(Rows(list(rows[0]), rows), fmt, title="Metric catalogue", wrap=("name", "parameters"),
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
    from funnelmetrics.options import parse_pairs

    query = {"grain": grain, "by": by or [], "start": start, "end": end,
             "where": parse_pairs(where, "--where"), "as_of": as_of}
    params = parse_pairs(param, "--param")
    if not explain and _answer_kept(db, names, query, params, fmt, lang):
        return  # asked before: the kept SQL answered, without building anything again
    from funnelmetrics.catalog.model import Time

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
        if not explain and ws.is_duckdb:
            # each metric compiled on its own (and kept), its SQL run through DuckDB itself: no
            # pandas, and as fast as a batch (each query scans what it needs; a batch's shared
            # tables would go through Ibis and pyarrow); every answer before any is printed
            shown = [_shown(metric, ws) for metric in metrics]
            rows = [_run_kept(ws, db, name, query, params, own, info)
                    for name, own, info in zip(names, owns, shown, strict=True)]
            for i, (info, answer) in enumerate(zip(shown, rows, strict=True)):
                _print_metric(info, answer, fmt, lang, header=i == 0, cohort=cohort)
            return
        if not explain and len(names) > 1:  # one query has nothing to share: build it once
            ws.prepare([(name, {"params": own, **query}) for name, own in zip(names, owns,
                                                                             strict=True)])
        # every answer first: a request failing on its third metric prints nothing at all
        # (never two answers and an error)
        answers = [_explain(ws, name, params=own, **query) if explain
                   else ws.metric(name, params=own, **query)
                   for name, own in zip(names, owns, strict=True)]
        for i, (name, metric, answer) in enumerate(zip(names, metrics, answers, strict=True)):
            if explain:
                if console.is_terminal:
                    from rich.syntax import Syntax

                    console.print(f"-- {name}", highlight=False)
                    console.print(Syntax(answer, "sql", word_wrap=True))
                else:  # piped: the exact SQL, never cropped to a terminal width
                    print(f"-- {name}\n{answer}", flush=True)
                continue
            _print_metric(_shown(metric, ws), answer, fmt, lang, header=i == 0, cohort=cohort)


# ---- kept queries (compile.sqlcache) ----------------------------------------------------------
def _kept_key(db: Any, name: str, query: dict[str, Any], params: dict[str, Any]
              ) -> tuple[str, list[str]] | None:
    """The cache key of a one-metric request and its `where` values, or None (no cache, not a
    DuckDB file, a filter that is not text)."""
    from funnelmetrics.compile import sqlcache

    if not sqlcache.enabled():
        return None
    stamp = sqlcache.workspace_stamp(db)
    split = sqlcache.split_where(query["where"]) if stamp else None
    if stamp is None or split is None:
        return None
    # a stage matches whatever its case (`_stages_as_configured`): one key for every spelling
    spelled = {k: v.lower() if k in STAGE_PARAMS and isinstance(v, str) else v
               for k, v in params.items()}
    return sqlcache.key(stamp, "cli", name, {**query, "params": spelled}, split[0]), split[1]


def _answer_kept(db: Any, names: list[str], query: dict[str, Any], params: dict[str, Any],
                 fmt: OutputFormat, lang: str | None) -> bool:
    """Print the answers from the kept SQL of every metric asked, when each has one and its
    probes still hold (True); else nothing is printed."""
    import datetime as dt

    from funnelmetrics.cli.app import open_duckdb
    from funnelmetrics.compile import sqlcache
    from funnelmetrics.serialize import Rows

    found = [_kept_key(db, name, query, params) for name in names]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    entries = [sqlcache.lookup(f[0], now) if f else None for f in found]
    if any(e is None for e in entries):
        return False
    con = open_duckdb(db)
    try:
        if not all(sqlcache.confirm(con, f[0], e, db) for f, e in zip(found, entries,
                                                                     strict=True)):
            return False  # the data changed what compiling one of them asked
        answers = [sqlcache.run(con, e, f[1], now) for f, e in zip(found, entries, strict=True)]
    finally:
        con.close()
    cohort = any(e.info["cohort"] for e in entries)
    lang = choose_lang(lang, entries[0].info["locale"])
    for i, (entry, rows) in enumerate(zip(entries, answers, strict=True)):
        _print_metric(entry.info, Rows.from_tuples(entry.columns, rows, entry.numeric), fmt,
                      lang, header=i == 0, cohort=cohort)
    return True


def _run_kept(ws: Any, db: Any, name: str, query: dict[str, Any], params: dict[str, Any],
              own: dict[str, Any], shown: dict[str, Any]) -> Any:
    """Compile the request on its own, keep it (when the cache is on and it can be kept) and
    answer it with that SQL through DuckDB itself, as `serialize.Rows` (None on another engine:
    then it runs as usual)."""
    import datetime as dt

    from funnelmetrics.compile import sqlcache
    from funnelmetrics.query import kept_query, once_query
    from funnelmetrics.serialize import Rows

    if not ws.is_duckdb:
        return None
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    found = _kept_key(db, name, query, params)
    entry = None if found is None else kept_query(ws, name, info=shown, params=own, **query)
    if entry is not None:
        sqlcache.store(found[0], entry)
        values = found[1]
    else:  # not kept: its values in the SQL, run once
        entry, values = once_query(ws, name, params=own, **query), []
    rows = sqlcache.run(ws.duckdb, entry, values, now)
    return Rows.from_tuples(entry.columns, rows, entry.numeric)


def _shown(metric: Any, ws: Any) -> dict[str, Any]:
    """What printing a metric's result needs of its catalogue entry and the workspace's
    settings (kept with its SQL: a kept answer is printed without either)."""
    from funnelmetrics.catalog.model import Time

    return {"id": metric.id, "unit": metric.unit.value, "display_unit": metric.display_unit,
            "is_ratio": metric.is_ratio, "cohort": metric.time is Time.COHORT,
            "names": {lang: metric.name(lang) for lang in ("en", "id", "ms")},
            "locale": ws.config.locale, "currency": ws.config.currency}


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
    from funnelmetrics.query import standalone_sql

    state, ws.batch_state = ws.batch_state, None  # on its own, not naming a batch's tables
    try:
        expr = ws.expr(metric_id, **query)
    finally:
        ws.batch_state = state
    return standalone_sql(ws, expr)


def _print_metric(shown: dict[str, Any], df: Any, fmt: OutputFormat, lang: str, header: bool,
                  cohort: bool) -> None:
    """One metric's result (a DataFrame or `serialize.Rows`) as JSON, CSV or a table; `shown`
    is `_shown(metric, ws)`."""
    from funnelmetrics.serialize import metric_frame, metric_json

    if fmt is OutputFormat.json:
        print_json_line(metric_json(shown["id"], shown["unit"], df))
        return
    # CSV of several metrics is one table: the same columns each time (immature when any is
    # a cohort metric)
    df = metric_frame(df, immature=fmt is OutputFormat.csv and cohort)
    if fmt is OutputFormat.csv:
        print_csv(df, extra={"metric": shown["id"], "unit": shown["unit"]}, header=header)
    else:
        units = {"value": shown["display_unit"]}
        if shown["is_ratio"] and shown["unit"] == "ratio":
            units.update(numerator="count", denominator="count")
        elif shown["is_ratio"] and shown["display_unit"] == "currency":  # an amount per thing
            units.update(numerator="currency", denominator="count")
        name = shown["names"].get(lang) or shown["names"]["en"]
        title = f"{name} ({shown['id']}, {shown['unit']})"
        table = df if shown["is_ratio"] else df.drop(columns=["numerator", "denominator"])
        print_table(table, title=title, units=units, lang=lang, currency=shown["currency"])


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
    from funnelmetrics import catalog
    from funnelmetrics.serialize import Rows

    lang = _catalogue_lang(db, lang)
    rows = [{"id": m.id, "name": m.name(lang), "unit": m.unit.value,
             "definition": m.description(lang), "formula": m.formula}
            for m in catalog.all_metrics()]
    if fmt is not OutputFormat.table:
        show(Rows(list(rows[0]), rows), fmt)
        return
    for row in rows:
        console.print(f"[bold]{row['name']}[/] [dim]({row['id']}, {row['unit']})[/]")
        console.print(f"  {row['definition']}", highlight=False)
        if row["formula"]:
            console.print(f"  [dim]= {row['formula']}[/]", highlight=False)
