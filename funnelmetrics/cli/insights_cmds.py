"""`insights`, `explain-change`, `pipeline-change`, `alerts` and `benchmarks` (SPEC §4, issue 15).

Thin: each command parses its options, asks `funnelmetrics.insights` (which asks the catalogue)
and renders the answer.
"""

from __future__ import annotations

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
    err_console,
    handle_errors,
    open_workspace,
)
from funnelmetrics.cli.render import print_json_line, printable, show
from funnelmetrics.i18n.ui import choose_lang, t

PeriodOption = Annotated[str | None, typer.Option(
    "--period", help="The period: YYYY-MM, YYYY-Qn, YYYY or a day in it (default: the last "
                     "full one).")]
GrainOption = Annotated[str, typer.Option("--grain", help="day, week, month, quarter or year.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="en, id or ms.")]
ParamOption = Annotated[list[str] | None, typer.Option(
    "--param", help="Metric parameter KEY=VALUE (repeatable), e.g. from_stage=mql.")]
WhereOption = Annotated[list[str] | None, typer.Option(
    "--where", help="Filter DIM=VALUE (repeatable).")]


def _today(ws: Any, as_of: str | None) -> Any:
    from funnelmetrics.compile.time import parse_instant

    moment = parse_instant(as_of, ws.config.timezone) if as_of else None
    return moment.date() if moment is not None else None


@app.command("insights")
@handle_errors
def insights_cmd(
    period: PeriodOption = None,
    grain: GrainOption = "month",
    lang: LangOption = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many findings.")] = 10,
    baseline: Annotated[int, typer.Option(
        "--baseline", min=1, help="Bottlenecks: periods in the trailing baseline.")] = 3,
    min_leads: Annotated[int | None, typer.Option(
        "--min-leads", min=1, help="Segments with fewer leads entering are left out "
                                   "(default 20 for bottlenecks, 30 for segments).")] = None,
    db: DbOption = DEFAULT_DB,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Where the funnel leaks and why: the period's top findings in plain language."""
    from funnelmetrics.insights.findings import parse_period
    from funnelmetrics.insights.report import insights

    with open_workspace(db, read_only=True) as ws:
        chosen = choose_lang(lang, ws.config.locale)
        p = parse_period(period, grain, today=_today(ws, as_of))
        more = {} if min_leads is None else {"min_leads": min_leads}
        answer = insights(ws, p, lang=chosen, top=top, as_of=as_of, baseline_periods=baseline,
                          **more)
    findings = answer["findings"]
    if fmt is OutputFormat.json:
        print_json_line({"period": answer["period"], "findings": findings})
        return
    if fmt is OutputFormat.csv:
        import pandas as pd

        show(pd.DataFrame(findings), fmt)
        return
    console.print(f"[bold]{t('insights', chosen)} · {answer['period']}[/]", highlight=False)
    if not findings:
        console.print(t("no_insights", chosen), highlight=False)
    for i, f in enumerate(findings, start=1):
        console.print(f"{i:>2}. [dim]{f['kind']}[/] {printable(f['message'])}",
                      highlight=False, soft_wrap=True)
    for kind, reason in answer["skipped"].items():
        err_console.print(f"[dim]{kind}: skipped ({printable(reason)})[/]", highlight=False)


@app.command("explain-change")
@handle_errors
def explain_change_cmd(
    metric: Annotated[str, typer.Argument(
        help="bookings, won_deals, conversions or a ratio metric id.")],
    period: PeriodOption = None,
    against: Annotated[str | None, typer.Option(
        "--against", help="The period to compare with (default: the one before).")] = None,
    by: Annotated[str, typer.Option("--by", help="The dimension to split by.")] = "source",
    grain: GrainOption = "month",
    param: ParamOption = None,
    where: WhereOption = None,
    db: DbOption = DEFAULT_DB,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A change decomposed into volume × mix × rate per segment (parts sum to the change)."""
    import pandas as pd

    from funnelmetrics.insights.explain import explain_change
    from funnelmetrics.insights.findings import parse_period
    from funnelmetrics.query import parse_pairs

    with open_workspace(db, read_only=True) as ws:
        p = parse_period(period, grain, today=_today(ws, as_of))
        a = parse_period(against, grain) if against else None
        ex = explain_change(ws, metric, p, by=by, against=a, params=parse_pairs(param, "param"),
                            where=parse_pairs(where, "where"), as_of=as_of)
        currency = ws.config.currency
    if fmt is OutputFormat.json:
        print_json_line(ex.to_json())
        return
    df = pd.DataFrame(ex.to_json()["segments"])
    if df.empty:
        df = pd.DataFrame(columns=["segment", "before", "after", "change", "volume", "mix",
                                   "rate"])
    df = df.sort_values("change", key=lambda s: -s.abs(), ignore_index=True)
    df.loc[len(df)] = ["total", ex.before, ex.after, ex.change, ex.effect("volume"),
                       ex.effect("mix"), ex.effect("rate")]
    units = {c: "currency" if metric == "bookings" else "count"
             for c in ("before", "after", "change", "volume", "mix", "rate")}
    show(df.rename(columns={"segment": by}), fmt, units=units, currency=currency,
         title=f"{metric}: {ex.against.label} → {ex.period.label} by {by}")
    if fmt is OutputFormat.table and ex.parts:
        top = ", ".join(f"{printable(p.segment)} ({p.change:+,.2f})" for p in ex.contributors())
        console.print(f"Biggest contributors: {top}", highlight=False, soft_wrap=True)


@app.command("pipeline-change")
@handle_errors
def pipeline_change_cmd(
    start: Annotated[str, typer.Option("--from", help="First day (its end: the start pipeline).")],
    end: Annotated[str, typer.Option("--to", help="Last day (its end: the end pipeline).")],
    close_from: Annotated[str | None, typer.Option(
        "--close-from", help="Only deals expected to close from this day…")] = None,
    close_to: Annotated[str | None, typer.Option(
        "--close-to", help="…to this day (pulled in / pushed out of that window).")] = None,
    db: DbOption = DEFAULT_DB,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Pipeline waterfall between two days: start → new, increased, decreased, pulled in,
    pushed out, won, lost → end."""
    import pandas as pd

    from funnelmetrics.compile.time import parse_date
    from funnelmetrics.insights.waterfall import pipeline_waterfall

    with open_workspace(db, read_only=True) as ws:
        w = pipeline_waterfall(ws, parse_date(start, "--from"), parse_date(end, "--to"),
                               close_from=parse_date(close_from, "--close-from"),
                               close_to=parse_date(close_to, "--close-to"))
        currency = ws.config.currency
    if fmt is OutputFormat.json:
        print_json_line(w.to_json())
        return
    df = pd.DataFrame(w.to_json()["steps"])
    show(df, fmt, units={"value": "currency", "deals": "count"}, currency=currency,
         title=f"Pipeline {w.start} → {w.end}")


@app.command("alerts")
@handle_errors
def alerts_cmd(
    period: PeriodOption = None,
    db: DbOption = DEFAULT_DB,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
    no_deliver: Annotated[bool, typer.Option(
        "--no-deliver", help="Only print; send nothing to files or webhooks.")] = False,
    lang: LangOption = None,
) -> None:
    """Evaluate the [[alerts]] rules of funnelmetrics.toml; print and deliver each fired one."""
    from funnelmetrics.insights.alerts import deliver, rules_of, run_alerts

    with open_workspace(db, read_only=True) as ws:
        rules = rules_of(ws)
        fired = run_alerts(ws, period, as_of=as_of, lang=choose_lang(lang, ws.config.locale))
        problems = [] if no_deliver else [p for a in fired for p in deliver(ws, a)]
    if fmt is OutputFormat.json:
        for alert in fired:
            print_json_line(alert)
    elif fmt is OutputFormat.csv:
        import pandas as pd

        show(pd.DataFrame(fired), fmt)
    else:
        if not rules:
            console.print("No [[alerts]] rules in funnelmetrics.toml.", highlight=False)
        elif not fired:
            console.print(f"{len(rules)} rule(s) checked: none fired.", highlight=False)
        for alert in fired:
            console.print(f"[bold red]ALERT[/] {printable(alert['message'])}", highlight=False,
                          soft_wrap=True)
    for problem in problems:
        err_console.print(f"[yellow]warning:[/] {printable(problem)}", highlight=False,
                          soft_wrap=True)


@app.command("benchmarks")
@handle_errors
def benchmarks_cmd(
    period: PeriodOption = None,
    grain: GrainOption = "month",
    db: DbOption = DEFAULT_DB,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every benchmarked metric of the period against its industry range, with its source."""
    import pandas as pd

    from funnelmetrics.insights.benchmarks import benchmark_status
    from funnelmetrics.insights.findings import parse_period

    with open_workspace(db, read_only=True) as ws:
        p = parse_period(period, grain, today=_today(ws, as_of))
        rows = benchmark_status(ws, p.start, p.end, grain=p.grain.value, as_of=as_of)
    if fmt is OutputFormat.json:
        print_json_line({"period": p.label, "rows": rows})
        return
    show(pd.DataFrame(rows), fmt, title=f"Benchmarks for {p.label}", wrap=("source", "note"))
