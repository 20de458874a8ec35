"""`mrr`, `leaderboard` and `kpis`: revenue, rep and target views (SPEC §3, §4, §5).

Thin: each command parses its options, asks the library (`funnelmetrics.revenue`,
`funnelmetrics.insights.kpis`, which ask the catalogue) and renders the result.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from funnelmetrics.cli.app import (
    DEFAULT_DB,
    AsOfOption,
    DbOption,
    FormatOption,
    OutputFormat,
    app,
    handle_errors,
    open_workspace,
)
from funnelmetrics.cli.render import print_csv, print_notes, show
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.ui import choose_lang

if TYPE_CHECKING:
    import pandas as pd


GrainOption = Annotated[str, typer.Option("--grain", help="day, week, month, quarter or year.")]
StartOption = Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD).")]
EndOption = Annotated[str | None, typer.Option("--end", help="Last day, inclusive.")]
LangOption = Annotated[str | None, typer.Option("--lang", help="en, id or ms.")]
WhereOption = Annotated[list[str] | None, typer.Option(
    "--where", help="Filter DIM=VALUE (repeatable), e.g. team=east.")]


class MrrView(StrEnum):
    both = "both"
    movements = "movements"
    cohorts = "cohorts"


MOVEMENT_UNITS = {c: "currency" for c in ("start", "new", "expansion", "reactivation",
                                          "contraction", "churn", "end", "net_new")}
COHORT_UNITS = {"cohort_accounts": "count", "accounts": "count", "account_retention": "ratio",
                "mrr": "currency", "mrr_retention": "ratio"}
LEADERBOARD_UNITS = {"won_amount": "currency", "win_rate": "ratio", "mean_cycle_days": "days",
                     "quota_attainment": "ratio", "rank": "count"}


def _where(pairs: list[str] | None) -> dict[str, Any]:
    from funnelmetrics.query import parse_pairs

    return parse_pairs(pairs, "--where")


def _show(df: pd.DataFrame, fmt: OutputFormat, envelope: dict[str, Any], *, title: str,
          units: dict[str, str], ws: Any, lang: str, first: bool = True,
          **layout: Any) -> None:
    if fmt is OutputFormat.csv and not first:
        print()  # a blank line between two CSV tables
    if fmt is OutputFormat.csv:
        print_csv(df)
        return
    show(df, fmt, title=title, units=units, json_envelope=envelope, lang=lang,
         currency=ws.config.currency, **layout)


@app.command("mrr")
@handle_errors
def mrr_cmd(
    db: DbOption = DEFAULT_DB,
    grain: GrainOption = "month",
    start: StartOption = None,
    end: EndOption = None,
    as_of: AsOfOption = None,
    view: Annotated[MrrView, typer.Option("--view", help="both, movements or cohorts.")] =
    MrrView.both,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = None,
) -> None:
    """MRR movements per period and cohort retention (accounts and MRR by start period).

    Movements: start, +new, +expansion, +reactivation, −contraction, −churn, end.
    """
    from funnelmetrics.revenue.cohorts import mrr_cohorts
    from funnelmetrics.revenue.movements import mrr_waterfall

    with open_workspace(db, read_only=True) as ws:
        lang = choose_lang(lang, ws.config.locale)
        base = {"grain": grain, "currency": ws.config.currency}
        if grain.strip().lower() == "all":  # one period has no cohorts to follow
            if view is MrrView.cohorts:
                raise QueryError("cohorts need a calendar grain (day, week, month, quarter "
                                 "or year)")
            view = MrrView.movements
        if view is not MrrView.cohorts:
            df = mrr_waterfall(ws, grain=grain, start=start, end=end, as_of=as_of)
            _show(df, fmt, {"view": "mrr_movements", **base}, title="MRR movements",
                  units=MOVEMENT_UNITS, ws=ws, lang=lang)
        if view is not MrrView.movements:
            df = mrr_cohorts(ws, grain=grain, start=start, end=end, as_of=as_of)
            _show(df, fmt, {"view": "mrr_cohorts", **base},
                  title=f"MRR cohort retention (by {grain})", units=COHORT_UNITS, ws=ws,
                  lang=lang, first=view is MrrView.cohorts)


@app.command("leaderboard")
@handle_errors
def leaderboard_cmd(
    db: DbOption = DEFAULT_DB,
    grain: GrainOption = "month",
    start: StartOption = None,
    end: EndOption = None,
    where: WhereOption = None,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = None,
) -> None:
    """Reps per period: won amount, win rate, mean sales cycle, quota attainment and rank.

    Without --start/--end: the last full period of --grain (of the data's last period when
    the data ends before the current one).
    """
    from funnelmetrics.revenue.leaderboard import leaderboard
    from funnelmetrics.summary import default_instant, last_full_period

    with open_workspace(db, read_only=True) as ws:
        lang = choose_lang(lang, ws.config.locale)
        note = None
        if start is None and end is None and grain.strip().lower() != "all":
            seen = default_instant(ws, grain, as_of)
            first, last = last_full_period(ws, grain, seen.as_of)
            start, end = first.isoformat(), last.isoformat()
            note = (f"the last full {grain.strip().lower()}: {start} to {end}"
                    + (f" (the data ends on {seen.ended})" if seen.ended else "")
                    + "; --start/--end for others")
        df = leaderboard(ws, grain=grain, start=start, end=end, as_of=as_of,
                         where=_where(where))
        title, keys = "Rep leaderboard", 2
        if fmt is OutputFormat.table:
            df = _with_rep_names(ws, df)
            periods = df["period_start"].dropna().unique()
            if len(periods) == 1:  # one period: said in the title, not on every row
                title = f"Rep leaderboard, {grain.strip().lower()} of {periods[0]}"
                if df["partial"].any():
                    title += " *"
                df, keys = df.drop(columns=["period_start"]), 1
            lead = ["period_start", "rank"] if keys == 2 else ["rank"]
            df = df[[*lead, *(c for c in df.columns if c not in lead)]]
        _show(df, fmt, {"view": "leaderboard", "grain": grain, "start": start, "end": end,
                        "currency": ws.config.currency},
              title=title, units=LEADERBOARD_UNITS, ws=ws, lang=lang, keys=keys)
        if note and fmt is OutputFormat.table:
            print_notes([note])


def _with_rep_names(ws: Any, df: pd.DataFrame) -> pd.DataFrame:
    """The table people read names reps: `rep` is the reps table's name (the id where it has
    none), in place of `rep_id`. Only the reps on the board are looked up."""
    ids = sorted({str(r) for r in df["rep_id"].dropna()})
    names: dict[str, str] = {}
    if ids and ws.has_table("reps") and "name" in ws.table("reps").columns:
        reps = ws.table("reps")
        found = reps.filter(reps.rep_id.isin(ids)).select("rep_id", "name").to_pyarrow()
        names = {str(i): n for i, n in zip(found["rep_id"].to_pylist(),
                                           found["name"].to_pylist(), strict=True) if n}
    out = df.copy()
    out.insert(out.columns.get_loc("rep_id"), "rep",
               [names.get(str(r), r) if r is not None else None for r in df["rep_id"]])
    return out.drop(columns=["rep_id"])


@app.command("kpis")
@handle_errors
def kpis_cmd(
    db: DbOption = DEFAULT_DB,
    as_of: AsOfOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = None,
) -> None:
    """KPI targets of the current (or --as-of) period: target, actual, % of target, status."""
    from funnelmetrics.insights.kpis import kpi_status

    with open_workspace(db, read_only=True) as ws:
        lang = choose_lang(lang, ws.config.locale)
        df = kpi_status(ws, as_of=as_of)
        title, layout = "KPI targets", {}
        if fmt is OutputFormat.table:
            df = _formatted_kpis(df, ws, lang)
            if df["period"].nunique() == 1:  # one period: said in the title
                title = f"KPI targets, {df['period'].iloc[0]}"
                df = df.drop(columns=["period"])
            layout = {"wrap": ("kpi", "status"), "secondary": ("expected", "period")}
        _show(df, fmt, {"view": "kpis", "as_of": as_of, "currency": ws.config.currency},
              title=title, units={"pct_of_target": "ratio"}, ws=ws, lang=lang, **layout)


def _formatted_kpis(df: pd.DataFrame, ws: Any, lang: str) -> pd.DataFrame:
    """The terminal view: one filter and one period column, amounts by each metric's unit."""
    import pandas as pd

    from funnelmetrics.cli.render import display

    def fmt(value: Any, unit: Any) -> str | None:
        return None if pd.isna(value) else display(
            float(value), unit if isinstance(unit, str) else None, lang=lang,
            currency=ws.config.currency)

    out = pd.DataFrame({
        "kpi": [f"{m} {d}={v}" if isinstance(d, str) else m  # metric id and filter, each whole
                for m, d, v in zip(df["metric"], df["dimension"], df["dimension_value"],
                                   strict=True)],
        "period": [f"{a} to {b}" for a, b in zip(df["period_start"], df["period_end"], strict=True)],
    })
    for col in ("target", "expected", "actual"):
        out[col] = [fmt(v, u) for v, u in zip(df[col], df["unit"], strict=True)]
    out["pct_of_target"] = df["pct_of_target"]
    out["status"] = df["status"]
    return out
