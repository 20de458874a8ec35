"""Review sections looking ahead: the bookings forecast for the next period with the back-test's
accuracy (`forecast.pipeline.bookings_forecast`, `forecast.backtest.backtest`, both as of the
review period's end), and the KPI targets' status at the period's last moment
(`insights.kpis.kpi_status`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from funnelmetrics.compile.time import Grain, local_to_utc
from funnelmetrics.i18n.gettext import N_
from funnelmetrics.insights.findings import Period
from funnelmetrics.reports.figures import not_filtered, num
from funnelmetrics.reports.model import Column, Label, Ref, Section, Sentence, Table

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

BACKTEST_PERIODS = {Grain.MONTH: 6, Grain.QUARTER: 4}
PARTS = {"open_pipeline": N_("Open pipeline"), "new_pipeline": N_("New pipeline"),
         "total": N_("Total")}
BASELINES = {"model": N_("This forecast"), "last_period": N_("Last period's bookings"),
             "pipeline_x_win_rate": N_("Pipeline × win rate")}


def forecast(ws: Workspace, period: Period, where: dict[str, str], *,
             simulations: int = 2000) -> Section:
    """A month's review forecasts the next month, a quarter's the next quarter; a year's the
    next quarter (the forecast runs by month or quarter)."""
    from funnelmetrics.forecast.backtest import backtest
    from funnelmetrics.forecast.pipeline import bookings_forecast

    section = Section("forecast", N_("Forecast"))
    grain = period.grain if period.grain in BACKTEST_PERIODS else Grain.QUARTER
    upcoming = Period(period.next_start, grain)
    as_of = local_to_utc(dt.datetime.combine(period.next_start, dt.time()), ws.config.timezone)
    answer = bookings_forecast(ws, as_of=as_of, grain=grain.value, horizon=1,
                               simulations=simulations)
    row = next((r for r in answer["rows"] if r["period_start"] == upcoming.start.isoformat()),
               None)
    if row is None:
        section.missing = N_("No data for this section in this period.")
        return section
    table = Table("forecast", N_("Bookings forecast"), [
        Column("part", N_("Part"), "label"), Column("expected", N_("Expected"), "currency"),
        Column("p10", N_("P10"), "currency"), Column("p50", N_("P50"), "currency"),
        Column("p90", N_("P90"), "currency")])
    for key, label in PARTS.items():
        part = row.get(key) or {}
        table.rows.append({"part": label, **{k: num(part.get(k))
                                             for k in ("expected", "p10", "p50", "p90")}})
    section.tables.append(table)
    total = len(table.rows) - 1
    section.sentences.append(Sentence(
        N_("Bookings for {next_period} are forecast at {p50}, between {p10} (P10) and {p90} "
           "(P90)."),
        {"next_period": Label(upcoming, "period"), "p50": Ref("forecast", total, "p50"),
         "p10": Ref("forecast", total, "p10"), "p90": Ref("forecast", total, "p90")}))
    if where:
        not_filtered(section, table.title)
    test = backtest(ws, grain=grain.value, periods=BACKTEST_PERIODS[grain], as_of=as_of,
                    simulations=simulations // 2)
    _backtest(section, test)
    return section


def _backtest(section: Section, test: dict) -> None:
    past = Table("backtest", N_("Past forecasts against what closed"), [
        Column("period_start", N_("Period"), "date"), Column("actual", N_("Actual"), "currency"),
        Column("p50", N_("P50"), "currency"), Column("p10", N_("P10"), "currency"),
        Column("p90", N_("P90"), "currency"), Column("error", N_("Error"), "relative")])
    for r in test["rows"]:
        past.rows.append({"period_start": dt.date.fromisoformat(r["period_start"]),
                          **{k: num(r.get(k)) for k in ("actual", "p50", "p10", "p90",
                                                        "error")}})
    overall = test["overall"]
    accuracy = Table("accuracy", N_("Back-test accuracy"), [
        Column("method", N_("Method"), "label"), Column("periods", N_("Periods"), "count"),
        Column("mape", N_("Mean absolute percentage error"), "ratio"),
        Column("bias", N_("Bias"), "relative"),
        Column("coverage", N_("Actual within P10–P90"), "ratio")])
    for key, label in BASELINES.items():
        part = overall.get(key) or {}
        accuracy.rows.append({"method": label, "periods": num(overall.get("periods")),
                              "mape": num(part.get("mape")), "bias": num(part.get("bias")),
                              "coverage": num(part.get("coverage_p10_p90"))})
    section.tables += [past, accuracy]
    if accuracy.rows[0]["mape"] is not None:
        section.sentences.append(Sentence(
            N_("Over the last {periods} periods its mean absolute percentage error was {mape}, "
               "against {baseline} for last period's bookings."),
            {"periods": Ref("accuracy", 0, "periods"), "mape": Ref("accuracy", 0, "mape"),
             "baseline": Ref("accuracy", 1, "mape")}))
    if accuracy.rows[0]["coverage"] is not None:
        section.sentences.append(Sentence(
            N_("Watch the range: what closed fell between P10 and P90 in {coverage} of the "
               "periods tested."),
            {"coverage": Ref("accuracy", 0, "coverage")}))


STATUS = {"on track": N_("on track"), "at risk": N_("at risk"), "behind": N_("behind"),
          "no data": N_("no data")}


def targets(ws: Workspace, period: Period, where: dict[str, str]) -> Section:
    """The targets whose period contains the review's last day, at its last second."""
    from funnelmetrics.insights.kpis import kpi_status

    section = Section("targets", N_("KPI targets"))
    if not ws.has_table("kpi_targets"):
        section.missing = N_("No data for this section in this period.")
        return section
    last = dt.datetime.combine(period.end, dt.time(23, 59, 59)).isoformat()
    df = kpi_status(ws, as_of=last)
    table = Table("targets", N_("KPI targets"), [
        Column("metric", N_("Metric"), "metric"), Column("segment", N_("Segment"),
                                                         unit_from="segment_unit"),
        Column("target", N_("Target"), unit_from="unit"),
        Column("expected", N_("Expected so far"), unit_from="unit"),
        Column("actual", N_("Actual"), unit_from="unit"),
        Column("pct_of_target", N_("Share of target"), "ratio"),
        Column("status", N_("Status"), "label")])
    for r in df.to_dict("records"):
        dim, value = r.get("dimension"), r.get("dimension_value")
        table.rows.append({
            "metric": r["metric"], "segment": f"{dim} = {value}" if dim else N_("all"),
            "segment_unit": "text" if dim else "label", "unit": r.get("unit") or "number",
            **{k: num(r.get(k)) for k in ("target", "expected", "actual", "pct_of_target")},
            "status": STATUS.get(str(r["status"]), str(r["status"]))})
    section.tables.append(table)
    if where:
        not_filtered(section, table.title)
    if not table.rows:
        section.sentences.append(Sentence(N_("No KPI target covers this period.")))
        return section
    _target_story(section, table)
    return section


def _target_story(section: Section, table: Table) -> None:
    def furthest(status: str) -> int | None:
        rows = [(abs((r["pct_of_target"] or 1) - 1), -i) for i, r in enumerate(table.rows)
                if r["status"] == status and r["pct_of_target"] is not None]
        return -max(rows)[1] if rows else None

    args = {}
    behind = furthest("behind")
    if behind is not None:
        args = {k: Ref("targets", behind, k)
                for k in ("metric", "segment", "actual", "expected", "pct_of_target")}
        section.sentences.append(Sentence(
            N_("{metric} ({segment}) is furthest from its target: {actual} against {expected} "
               "expected ({pct_of_target})."), args))
    ahead = furthest("on track")
    if ahead is not None:
        section.sentences.append(Sentence(
            N_("{metric} ({segment}) is on track at {pct_of_target} of its target."),
            {k: Ref("targets", ahead, k) for k in ("metric", "segment", "pct_of_target")}))
    risk = furthest("at risk")
    if risk is not None:
        section.sentences.append(Sentence(
            N_("Watch {metric} ({segment}): at risk at {pct_of_target} of its target."),
            {k: Ref("targets", risk, k) for k in ("metric", "segment", "pct_of_target")}))
