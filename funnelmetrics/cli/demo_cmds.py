"""`demo` (build the demo workspace and print the KPI summary) and `summary`."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

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
from funnelmetrics.cli.render import print_json_line
from funnelmetrics.compile.time import Grain
from funnelmetrics.i18n.format import format_value, percent
from funnelmetrics.summary import Headline, kpi_summary


@app.command("demo")
@handle_errors
def demo_cmd(
    db: DbOption = DEFAULT_DB,
    leads: Annotated[int, typer.Option("--leads", min=100, help="Number of leads.")] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
    months: Annotated[int, typer.Option("--months", min=3, help="Months of history.")] = 24,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Generate a realistic B2B SaaS demo workspace, load it, print the KPI summary."""
    from funnelmetrics.demo import build_demo

    started = time.perf_counter()
    with console.status(f"Generating {leads:,} leads and loading them into {db}…"):
        ws, report = build_demo(db, leads=leads, seed=seed, months=months)
    with ws:
        loaded = sum(t.accepted for t in report.tables.values())
        if fmt is OutputFormat.table:
            console.print(f"[green]Demo workspace ready[/] at [bold]{db}[/]: {loaded:,} rows in "
                          f"{len(report.tables)} tables ({time.perf_counter() - started:.1f} s).")
        _print_summary(ws, fmt, None, ws.config.locale)
    if fmt is OutputFormat.table:
        console.print(f"\nNext: [bold]funnelmetrics funnel --db {db}[/], "
                      f"[bold]funnelmetrics metric win_rate --by source --db {db}[/], or the "
                      f"dashboard: [bold]funnelmetrics serve --db {db} --no-auth[/] → "
                      "http://127.0.0.1:8000")


@app.command("summary")
@handle_errors
def summary_cmd(db: DbOption = DEFAULT_DB, as_of: AsOfOption = None,
                fmt: FormatOption = OutputFormat.table,
                lang: Annotated[str | None, typer.Option("--lang")] = None) -> None:
    """Headline KPIs for the last full month and quarter."""
    with open_workspace(db, read_only=True) as ws:
        _print_summary(ws, fmt, as_of, lang or ws.config.locale)


def _print_summary(ws: Any, fmt: OutputFormat, as_of: Any, lang: str) -> None:
    month = kpi_summary(ws, Grain.MONTH, as_of=as_of, lang=lang)
    quarter = kpi_summary(ws, Grain.QUARTER, as_of=as_of, lang=lang)
    if fmt is not OutputFormat.table:
        for grain, rows in (("month", month), ("quarter", quarter)):
            print_json_line({"grain": grain, "period_start": rows[0].period.isoformat(),
                             "rows": [{"metric": h.metric, "unit": h.unit, "value": h.value,
                                       "previous": h.previous, "change": h.change}
                                      for h in rows]})
        return
    table = Table(title="KPI summary", title_justify="left", header_style="bold cyan")
    table.add_column("metric")
    for label in (f"month {month[0].period:%Y-%m}", "vs prior", f"quarter {_q(quarter[0])}",
                  "vs prior"):
        table.add_column(label, justify="right")
    for m, q in zip(month, quarter, strict=True):
        table.add_row(m.label, _fmt(m, ws, lang), _change(m, lang), _fmt(q, ws, lang),
                      _change(q, lang))
    console.print(table)


def _q(h: Headline) -> str:
    return f"{h.period.year}-Q{(h.period.month - 1) // 3 + 1}"


def _fmt(h: Headline, ws: Any, lang: str) -> str:
    return format_value(h.value, h.unit, lang=lang, currency=ws.config.currency)


def _change(h: Headline, lang: str) -> str:
    if h.change is None:
        return "—"
    arrow = "▲" if h.change > 0 else "▼" if h.change < 0 else "="
    return f"{arrow} {percent(abs(h.change), lang)}"
