"""`demo` (build the demo workspace and print the KPI summary) and `summary`."""

from __future__ import annotations

import time
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
from funnelmetrics.cli.render import print_csv, print_json_line, print_notes
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.ui import LANG_NAMES, t

if TYPE_CHECKING:
    from funnelmetrics.summary import Headline


@app.command("demo")
@handle_errors
def demo_cmd(
    db: DbOption = DEFAULT_DB,
    leads: Annotated[int, typer.Option("--leads", min=100, help="Number of leads.")] = 50_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 7,
    months: Annotated[int, typer.Option("--months", min=3, help="Months of history.")] = 24,
    fmt: FormatOption = OutputFormat.table,
    prepare: Annotated[bool, typer.Option(
        "--prepare/--no-prepare", help="Compute the dashboard's overview and keep it, so that "
        "the first `serve` answers it at once.")] = True,
) -> None:
    """Generate a realistic B2B SaaS demo workspace, load it, print the KPI summary."""
    from funnelmetrics.cli.workspace_cmds import prepare_dashboard
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
    prepare_dashboard(db, prepare, fmt)  # the first `serve` answers at once
    if fmt is OutputFormat.table:
        # one command a line, never wrapped, as this shell can run it: paste and go
        print("\nNext, try:")
        for command in next_steps(str(db)):
            print(f"  {command}")
        print("  (the dashboard then opens at http://127.0.0.1:8000)", flush=True)


def program() -> str:
    """How the user's shell reaches this command: `funnelmetrics` when that is on PATH, else
    the path it was started by (`.venv/bin/funnelmetrics` from the project directory)."""
    import os
    import shutil
    import sys
    from pathlib import Path

    started = Path(sys.argv[0])
    if started.name != "funnelmetrics":  # run in process (tests, python -c): the plain name
        return "funnelmetrics"
    found = shutil.which("funnelmetrics")
    if found and Path(found).resolve() == started.resolve():
        return "funnelmetrics"
    try:
        relative = started.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(started.resolve())
    return str(relative) if os.sep in str(relative) else f".{os.sep}{relative}"


def next_steps(db: str) -> list[str]:
    """The commands the demo suggests, each ready to paste (the path quoted for the shell)."""
    import shlex

    run, where = shlex.quote(program()), shlex.quote(db)
    return [f"{run} funnel --db {where}",
            f"{run} metric win_rate --by source --db {where}",
            f"{run} serve --db {where} --no-auth"]


IncludePartialOption = Annotated[bool, typer.Option(
    "--include-partial", help="Show the current period (not over yet, marked *) against the "
                              "one before, instead of the last full period.")]


@app.command("summary")
@handle_errors
def summary_cmd(db: DbOption = DEFAULT_DB, as_of: AsOfOption = None,
                fmt: FormatOption = OutputFormat.table,
                lang: Annotated[str | None, typer.Option("--lang", help="en, id or ms.")] = None,
                include_partial: IncludePartialOption = False) -> None:
    """Headline KPIs for the last full month and quarter, each against the period before.

    A rate's change is in percentage points (pp); any other's is relative (%).
    """
    with open_workspace(db, read_only=True) as ws:
        chosen = lang or ws.config.locale
        if chosen not in LANG_NAMES:
            raise QueryError(f"--lang must be one of {', '.join(LANG_NAMES)}, not {chosen!r}")
        _print_summary(ws, fmt, as_of, chosen, include_partial)


def _print_summary(ws: Any, fmt: OutputFormat, as_of: Any, lang: str,
                   include_partial: bool = False) -> None:
    from funnelmetrics.summary import default_instant, kpi_summary

    seen = default_instant(ws, "month", as_of)  # an old export: its own last full periods
    as_of = seen.as_of
    month = kpi_summary(ws, "month", as_of=as_of, lang=lang, include_partial=include_partial)
    quarter = kpi_summary(ws, "quarter", as_of=as_of, lang=lang,
                          include_partial=include_partial)
    if fmt is OutputFormat.json:
        for grain, rows in (("month", month), ("quarter", quarter)):
            print_json_line({"grain": grain, "period_start": rows[0].period.isoformat(),
                             "rows": [h.to_json() for h in rows]})
    elif fmt is OutputFormat.csv:
        print_csv(_summary_frame(month, quarter))
    else:
        table, notes = _summary_table(month, quarter, ws, lang)
        if seen.ended is not None:
            console.print(t("data_ends", lang, end=seen.ended, as_of=as_of), highlight=False,
                          soft_wrap=True, markup=False)
        console.print(table)
        print_notes(notes)


def _summary_frame(month: list[Headline], quarter: list[Headline]) -> Any:
    """One CSV table: a row per grain and headline metric."""
    import pandas as pd

    return pd.DataFrame([{"grain": grain, "period_start": h.period.isoformat(),
                          "label": h.label, **h.to_json()}
                         for grain, rows in (("month", month), ("quarter", quarter))
                         for h in rows])


def _summary_table(month: list[Headline], quarter: list[Headline], ws: Any,
                   lang: str) -> tuple[Any, list[str]]:
    """The table and its footnotes (the marks used, what pp means)."""
    from rich.table import Table

    from funnelmetrics.serialize import mark_notes, marks

    def head(h: Headline, text: str) -> str:
        return f"{text} {marks(h.partial)}".rstrip()

    table = Table(title=t("kpi_summary", lang), title_justify="left", header_style="bold cyan")
    table.add_column(t("metric", lang), min_width=20)
    for i, label in enumerate((f"{t('month', lang)}\n{head(month[0], f'{month[0].period:%Y-%m}')}",
                               t("vs_prior", lang),
                               f"{t('quarter', lang)}\n{head(quarter[0], _q(quarter[0]))}",
                               t("vs_prior", lang))):
        # values never wrap; a change column is as narrow as "▲ 32.1 pp"
        table.add_column(label, justify="right", no_wrap=i % 2 == 0,
                         max_width=None if i % 2 == 0 else 11)
    for m, q in zip(month, quarter, strict=True):
        table.add_row(m.label, _fmt(m, ws, lang), _change(m, lang), _fmt(q, ws, lang),
                      _change(q, lang))
    every = [*month, *quarter]
    notes = mark_notes(lang, partial=any(h.partial for h in every),
                       immature=any(h.immature for h in every))
    if any(h.change_unit == "pp" and h.change is not None for h in every):
        notes.append(t("pp_note", lang))
    return table, notes


def _q(h: Headline) -> str:
    return f"{h.period.year}-Q{(h.period.month - 1) // 3 + 1}"


def _fmt(h: Headline, ws: Any, lang: str) -> str:
    from funnelmetrics.cli.render import display
    from funnelmetrics.serialize import marks

    text = display(h.value, h.unit, lang=lang, currency=ws.config.currency)
    return f"{text} {marks(immature=h.immature)}" if h.immature and h.value is not None \
        else text


def _change(h: Headline, lang: str) -> str:
    """▲ 4.6% (relative), or ▲ 2.1 pp for a rate (percentage points); "not yet comparable" for
    an immature cohort (its value will still grow: a fall is not a fall yet)."""
    from funnelmetrics.i18n.format import number, percent

    change = h.change
    if change is None:
        return "—"
    if h.immature:
        return t("not_comparable", lang)
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    if h.change_unit == "pp":
        return f"{arrow} {number(round(abs(change), 1), lang, 1)} pp"
    return f"{arrow} {percent(abs(change), lang)}"
