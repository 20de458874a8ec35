"""`funnelmetrics report`: write the monthly, quarterly or annual review (html, pdf, xlsx) in en,
id or ms, or with `--due` every `[[reports]]` review whose period has just ended."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from funnelmetrics.cli.app import DEFAULT_DB, DbOption, app, console, handle_errors, open_workspace
from funnelmetrics.errors import QueryError


@app.command("report")
@handle_errors
def report_cmd(
    period: Annotated[str | None, typer.Option(
        "--period", help="The period reviewed: a month (2026-03), a quarter (2026-Q1) or a "
                         "year (2026).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or xlsx.")] = "html",
    lang: Annotated[str | None, typer.Option(
        "--lang", help="en, id or ms (default: $FUNNELMETRICS_LANG, then the config's "
                       "locale).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="The file to write (default: review-PERIOD-LANG.FORMAT).")] = None,
    where: Annotated[list[str] | None, typer.Option(
        "--where", help="Filter DIM=VALUE (repeatable), e.g. region=ID.")] = None,
    due: Annotated[bool, typer.Option(
        "--due", help="Write the \\[\\[reports]] of funnelmetrics.toml whose period has just "
                      "ended (a file already written is kept; safe to run daily).")] = False,
    today: Annotated[str | None, typer.Option(
        "--today", help="With --due: judge which periods have ended as on this day "
                        "(YYYY-MM-DD).", hidden=True)] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write a review: headline KPIs, funnel, revenue, marketing, team, forecast and targets,
    each opened by a short narrative."""
    from funnelmetrics.query import parse_pairs
    from funnelmetrics.reports.output import FORMATS, choose_lang, file_name

    if fmt not in FORMATS:
        raise QueryError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if due == (period is not None):
        raise QueryError("give --period PERIOD (one review) or --due (the scheduled ones)")
    ws = open_workspace(db, read_only=True)
    if due:
        _due(ws, today)
        return
    from funnelmetrics.reports.build import build_review, review_period
    from funnelmetrics.reports.output import write_review

    chosen = choose_lang(lang, ws.config.locale)
    filters = {k: str(v) for k, v in parse_pairs(where, "--where").items()}
    reviewed = review_period(str(period))
    path = output or Path(file_name(reviewed, chosen, fmt, filters))
    review = build_review(ws, reviewed, where=filters)
    write_review(review, path, fmt, chosen)
    console.print(f"wrote {path}", highlight=False, soft_wrap=True, markup=False)


def _due(ws: object, today: str | None) -> None:
    from funnelmetrics.reports.output import due_reviews

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        raise QueryError(f"--today {today!r}: use YYYY-MM-DD") from None
    done = due_reviews(ws, today=day)  # type: ignore[arg-type]
    if not done:
        console.print("no [[reports]] in funnelmetrics.toml: nothing is due", highlight=False,
                      markup=False)
    for item in done:
        verb = "wrote" if item.written else "kept"
        console.print(f"{verb} {item.path}", highlight=False, soft_wrap=True, markup=False)
