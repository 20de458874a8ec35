"""Review sections on selling: the headline KPIs, the funnel and its bottlenecks, the team.

Figures: `summary.HEADLINE` metrics from the catalogue, `insights.explain_change` (the change
in bookings by source), `funnel.funnel_table`, `insights.bottlenecks`, `revenue.leaderboard`
and the catalogue's `enps`. The narrative picks cells of these tables; it computes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from funnelmetrics import catalog, summary
from funnelmetrics.errors import FunnelmetricsError
from funnelmetrics.i18n.gettext import N_
from funnelmetrics.insights.findings import Period
from funnelmetrics.reports.figures import (
    kpi_table,
    normalised_change,
    not_filtered,
    num,
    rep_names,
    same_period_last_year,
    with_filter,
)
from funnelmetrics.reports.model import Chart, Column, Label, Ref, Section, Sentence, Table

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

PERIOD_NOT_OVER = N_("The period is not over yet: its figures may still move.")


def headline(ws: Workspace, period: Period, where: dict[str, str]) -> Section:
    section = Section("headline", N_("Headline KPIs"))
    kpis, partial = kpi_table(ws, "kpis", N_("Headline KPIs"), summary.HEADLINE, period, where)
    section.tables.append(kpis)
    if partial:
        section.notes.append(Sentence(PERIOD_NOT_OVER))
    moved = [(i, r) for i, r in enumerate(kpis.rows) if normalised_change(r) is not None]
    if moved:
        i, row = max(moved, key=lambda ir: abs(normalised_change(ir[1]) or 0))
        args: dict[str, Ref | Label] = {
            "metric": Ref("kpis", i, "metric"), "value": Ref("kpis", i, "value"),
            "change": Ref("kpis", i, "change"), "period": Label(period, "period"),
            "previous_period": Label(period.back(1), "period")}
        if row["change_year"] is None:
            msgid = N_("{metric} moved most in {period}: {value}, {change} against "
                       "{previous_period}.")
        else:
            msgid = N_("{metric} moved most in {period}: {value}, {change} against "
                       "{previous_period} and {change_year} against {last_year}.")
            args.update(change_year=Ref("kpis", i, "change_year"),
                        last_year=Label(same_period_last_year(period), "period"))
        section.sentences.append(Sentence(msgid, args))
    _contributors(ws, section, period, where)
    adverse = [(i, c) for i, r in enumerate(kpis.rows)
               if (c := normalised_change(r)) is not None
               and c * (1 if catalog.get(r["metric"]).higher_is_better else -1) < 0]
    if adverse:
        i, _ = max(adverse, key=lambda ic: abs(ic[1]))
        section.sentences.append(Sentence(
            N_("Watch {metric}: {change} against {previous_period}, the wrong way."),
            {"metric": Ref("kpis", i, "metric"), "change": Ref("kpis", i, "change"),
             "previous_period": Label(period.back(1), "period")}))
    return section


def _contributors(ws: Workspace, section: Section, period: Period,
                  where: dict[str, str]) -> None:
    """The change in bookings per lead source (volume, mix and rate: insights.explain)."""
    from funnelmetrics.insights.explain import explain_change

    title = N_("Change in bookings by source")
    try:
        ex = with_filter(section, title, where, lambda w: explain_change(
            ws, "bookings", period, by="source", where=w))
    except FunnelmetricsError:  # no lead source in this workspace
        return
    table = Table("contributors", title, [
        Column("segment", N_("Source"), unit_from="segment_unit"),
        Column("before", N_("Previous period"), "currency"),
        Column("after", N_("This period"), "currency"),
        Column("change", N_("Change"), "currency"),
        Column("rate", N_("Rate effect"), "currency"),
        Column("mix", N_("Mix effect"), "currency"),
        Column("volume", N_("Volume effect"), "currency")])
    table.rows.append({"segment": N_("All sources"), "segment_unit": "label",
                       "before": ex.before, "after": ex.after, "change": ex.change,
                       "rate": ex.effect("rate"), "mix": ex.effect("mix"),
                       "volume": ex.effect("volume")})
    for p in ex.contributors(5):
        table.rows.append({"segment": p.segment, "before": p.y0, "after": p.y1,
                           "change": p.change, "rate": p.rate, "mix": p.mix,
                           "volume": p.volume})
    section.tables.append(table)
    if len(table.rows) > 1 and table.rows[1]["change"]:
        section.sentences.append(Sentence(
            N_("Bookings changed by {change}; the biggest contributor was {segment} "
               "({segment_change})."),
            {"change": Ref("contributors", 0, "change"),
             "segment": Ref("contributors", 1, "segment"),
             "segment_change": Ref("contributors", 1, "change")}))


FUNNEL_COLUMNS = [
    Column("stage", N_("Stage")),
    Column("reached", N_("Reached"), "count"),
    Column("converted_to_next", N_("Converted to next"), "count"),
    Column("conversion_to_next", N_("Conversion to next"), "ratio"),
    Column("drop_off", N_("Drop-off"), "ratio"),
    Column("median_days_in_stage", N_("Median days in stage"), "days"),
]
BOTTLENECK_COLUMNS = [
    Column("transition", N_("Transition")),
    Column("segment", N_("Segment"), unit_from="segment_unit"),
    Column("current", N_("Conversion"), "ratio"),
    Column("baseline", N_("Baseline"), "ratio"),
    Column("impact", N_("Value lost"), "currency"),
]


def funnel(ws: Workspace, period: Period, where: dict[str, str]) -> Section:
    from funnelmetrics.funnel import funnel_table

    section = Section("funnel", N_("Funnel and bottlenecks"))
    df = with_filter(section, N_("Funnel"), where, lambda w: funnel_table(
        ws, start=period.start, end=period.end, where=w or None))
    stages = Table("funnel", N_("Funnel"), FUNNEL_COLUMNS,
                   [{c.key: _plain(r.get(c.key)) for c in FUNNEL_COLUMNS}
                    for r in df.to_dict("records")])
    section.tables.append(stages)
    section.charts.append(Chart("funnel", "stage", "reached", N_("Reached")))
    last = len(stages.rows) - 1
    if last > 0:
        section.sentences.append(Sentence(
            N_("{entered} leads reached {first_stage} in {period} and {won} reached "
               "{last_stage}."),
            {"entered": Ref("funnel", 0, "reached"), "first_stage": Ref("funnel", 0, "stage"),
             "won": Ref("funnel", last, "reached"), "last_stage": Ref("funnel", last, "stage"),
             "period": Label(period, "period")}))
    _bottlenecks(ws, section, period, where)
    drops = [(i, r["drop_off"]) for i, r in enumerate(stages.rows[:-1])
             if r["drop_off"] is not None]
    if drops:
        i, _ = max(drops, key=lambda x: x[1])
        section.sentences.append(Sentence(
            N_("Watch {stage}: {drop_off} of the leads that reached it went no further."),
            {"stage": Ref("funnel", i, "stage"), "drop_off": Ref("funnel", i, "drop_off")}))
    return section


def _bottlenecks(ws: Workspace, section: Section, period: Period,
                 where: dict[str, str]) -> None:
    from funnelmetrics.insights.bottlenecks import bottlenecks

    if where:
        not_filtered(section, N_("Bottlenecks"))
    table = Table("bottlenecks", N_("Bottlenecks"), BOTTLENECK_COLUMNS)
    for f in bottlenecks(ws, period)[:5]:
        overall = f.dimension is None
        table.rows.append({
            "transition": f"{f.from_stage} → {f.to_stage}",
            "segment": N_("all leads") if overall else f"{f.dimension} = {f.dimension_value}",
            "segment_unit": "label" if overall else "text",
            "current": num(f.current), "baseline": num(f.baseline), "impact": num(f.impact)})
    section.tables.append(table)
    if table.rows:
        section.sentences.append(Sentence(
            N_("The biggest bottleneck was {transition} for {segment}: {current} converted "
               "against {baseline} before, about {impact} of value lost."),
            {k: Ref("bottlenecks", 0, k)
             for k in ("transition", "segment", "current", "baseline", "impact")}))
    else:
        section.sentences.append(Sentence(
            N_("No transition converted worse than its baseline.")))


LEADERBOARD_COLUMNS = [
    Column("rank", N_("Rank"), "count"),
    Column("rep", N_("Rep")),
    Column("won_amount", N_("Won"), "currency"),
    Column("win_rate", N_("Win rate"), "ratio"),
    Column("mean_cycle_days", N_("Mean sales cycle (days)"), "days"),
    Column("quota_attainment", N_("Quota attainment"), "ratio"),
]


def team(ws: Workspace, period: Period, where: dict[str, str]) -> Section:
    from funnelmetrics.revenue.leaderboard import leaderboard

    section = Section("team", N_("The team"))
    board = with_filter(section, N_("Leaderboard"), where, lambda w: leaderboard(
        ws, grain=period.grain.value, start=period.start, end=period.end, where=w))
    board = board[board["period_start"].map(lambda v: getattr(v, "date", lambda: v)())
                  == period.start]
    names = rep_names(ws, sorted({str(r) for r in board["rep_id"]}))
    table = Table("leaderboard", N_("Leaderboard"), LEADERBOARD_COLUMNS)
    for r in board.head(15).to_dict("records"):
        table.rows.append({"rank": int(r["rank"]), "rep": names.get(str(r["rep_id"]),
                                                                    str(r["rep_id"])),
                           **{k: num(r[k]) for k in ("won_amount", "win_rate",
                                                     "mean_cycle_days", "quota_attainment")}})
    section.tables.append(table)
    if table.rows:
        section.charts.append(Chart("leaderboard", "rep", "won_amount", N_("Won")))
        section.sentences.append(Sentence(
            N_("{rep} led the team with {won} won, {attainment} of quota."),
            {"rep": Ref("leaderboard", 0, "rep"), "won": Ref("leaderboard", 0, "won_amount"),
             "attainment": Ref("leaderboard", 0, "quota_attainment")}))
    _enps(ws, section, period, where)
    quota = [(i, r["quota_attainment"]) for i, r in enumerate(table.rows)
             if r["quota_attainment"] is not None]
    if len(quota) > 1:
        i, _ = min(quota, key=lambda x: x[1])
        section.sentences.append(Sentence(
            N_("Watch {rep}: {attainment} of quota."),
            {"rep": Ref("leaderboard", i, "rep"),
             "attainment": Ref("leaderboard", i, "quota_attainment")}))
    return section


def _enps(ws: Workspace, section: Section, period: Period, where: dict[str, str]) -> None:
    (df,) = with_filter(section, N_("Employee NPS"), where, lambda w: ws.metrics(
        ["enps"], grain=period.grain.value, start=period.start, end=period.end, where=w))
    rows = [r for r in df.to_dict("records")]
    row = rows[0] if rows else {}
    table = Table("enps", N_("Employee NPS"), [
        Column("enps", N_("eNPS"), "score"), Column("respondents", N_("Responses"), "count")])
    table.rows.append({"enps": num(row.get("value")), "respondents": num(row.get("denominator"))})
    section.tables.append(table)
    if table.rows[0]["enps"] is not None:
        section.sentences.append(Sentence(
            N_("eNPS was {enps} from {respondents} responses."),
            {"enps": Ref("enps", 0, "enps"), "respondents": Ref("enps", 0, "respondents")}))
    else:
        section.sentences.append(Sentence(
            N_("eNPS is not shown: too few responses in this period.")))


def _plain(value: Any) -> Any:
    """A frame's cell as a plain value (NaN → None, numpy numbers → float, stage → str)."""
    if isinstance(value, str):
        return value
    return num(value)
