"""`attribution`: credit won revenue, opportunities or leads to channels and campaigns (SPEC §4, §5).

Thin: parse, call `funnelmetrics.attribution`, render. `--format json` prints one line per model:
{"model": M, "conversion": STAGE, "rows": [{"channel": C, "credited_conversions": x,
"credited_revenue": y, "spend": s, "roi": r, "cost_per_conversion": c}]}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

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
from funnelmetrics.cli.render import print_csv, print_json_line, print_table
from funnelmetrics.serialize import records

SHORT = {"first_touch": "first", "last_touch": "last", "time_decay": "decay",
         "position_based": "U-shape", "w_shaped": "W-shape"}
UNITS = {"credited_conversions": "number", "credited_revenue": "currency", "spend": "currency",
         "roi": "ratio", "cost_per_conversion": "currency"}


@app.command("attribution")
@handle_errors
def attribution_cmd(
    model: Annotated[str, typer.Option(
        "--model", help="first_touch, last_touch, linear, time_decay, position_based, "
                        "w_shaped, markov, shapley, a comma-separated list, or all.")] = "all",
    by: Annotated[str, typer.Option("--by", help="channel or campaign_id.")] = "channel",
    conversion: Annotated[str, typer.Option(
        "--conversion", help="The stage that counts as converting (won, opportunity, sql, mql…)."
    )] = "won",
    start: Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day, inclusive.")] = None,
    lookback_days: Annotated[float | None, typer.Option(
        "--lookback-days", help="Only touches this many days before the conversion.")] = None,
    half_life_days: Annotated[float | None, typer.Option(
        "--half-life-days", help="time_decay half-life (default 7).")] = None,
    order: Annotated[int | None, typer.Option("--order", help="markov order (default 1).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="shapley sampling seed beyond 12 channels (default 0).")] = None,
    as_of: AsOfOption = None,
    db: DbOption = DEFAULT_DB,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Credit conversions and won revenue to channels or campaigns, with spend and ROI."""
    from funnelmetrics.attribution import attribute_models

    params = {k: v for k, v in {"half_life_days": half_life_days, "order": order,
                                "seed": seed}.items() if v is not None}
    with open_workspace(db, read_only=True) as ws:
        if ws.is_duckdb:  # DuckDB draws its progress bar on stdout, inside the JSON/CSV
            ws.duckdb.execute("SET enable_progress_bar = false")
        results = attribute_models(ws, model, by=by, conversion=conversion, start=start,
                                   end=end, as_of=as_of, lookback_days=lookback_days, **params)
        currency = ws.config.currency
        lang = ws.config.locale
    if fmt is OutputFormat.json:
        for name, df in results.items():
            print_json_line({"model": name, "conversion": conversion, "rows": records(df)})
    elif fmt is OutputFormat.csv:
        for i, (name, df) in enumerate(results.items()):
            print_csv(df, extra={"model": name, "conversion": conversion}, header=i == 0)
    elif len(results) == 1:
        name, df = next(iter(results.items()))
        title = f"Attribution: {name}, conversion {conversion}, by {by}"
        print_table(df, title=title, units=UNITS, lang=lang, currency=currency)
    else:
        _side_by_side(results, by=by, conversion=conversion, lang=lang, currency=currency)


def _side_by_side(results: Mapping[str, Any], *, by: str, conversion: str, lang: str, currency: str) -> None:
    """The models as columns: credited revenue, or credited conversions when there is no won
    revenue to credit; rounded for reading (whole amounts keep eight models side by side)."""
    from funnelmetrics.attribution import side_by_side
    from funnelmetrics.serialize import rounded

    revenue = any(df["credited_revenue"].abs().sum() > 0 for df in results.values())
    wide = side_by_side(results, column="credited_revenue" if revenue else "credited_conversions")
    models = list(wide.columns[1:-1])  # key, one column per model, spend
    wide = rounded(wide, dict.fromkeys([*models, "spend"], 0) if revenue
                   else {**dict.fromkeys(models, 2), "spend": 0})
    wide = wide.rename(columns=SHORT)
    what = f"revenue ({currency})" if revenue else "conversions"
    title = f"Credited {what} by {by}, conversion {conversion} — models side by side"
    # as many models as fit the terminal side by side; the rest below, the key repeated
    print_table(wide, title=title, units=dict.fromkeys(wide.columns[1:], "number"),
                lang=lang, currency=currency)
