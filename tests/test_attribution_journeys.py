"""Attribution journeys (SPEC §4, issue #4 §2): what a conversion and its journey are.

Also holds `journeys_for`, the helper the other attribution tests build workspaces with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import funnelmetrics
from funnelmetrics.attribution import NO_TOUCH, attribute, build_journeys
from funnelmetrics.errors import QueryError
from funnelmetrics.workspace import Workspace


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def fill(ws: Workspace, leads: Mapping[str, Mapping[str, Any]],
         spend: Sequence[tuple[str, float, str | None, str | None]] = ()) -> Workspace:
    """Replace the workspace's rows by readable journeys.

    leads: {lead_id: {"created": "2026-01-10",
                      "touches": ["2026-01-01 ads", "2026-01-05T10:00 email c1", ...],
                      "stages": {"mql": "2026-01-12", "won": "2026-02-01"},
                      "deals": [("2026-01-20", "won", 1000.0, "2026-02-01"), ...]}}
    A touch is "WHEN CHANNEL [CAMPAIGN]". spend: (date, amount, channel, campaign_id).
    """
    con = ws.duckdb
    for table in ("leads", "stage_events", "touchpoints", "opportunities", "spend"):
        con.execute(f"delete from {table}")
    rows: dict[str, list[list[Any]]] = {"leads": [], "touchpoints": [], "stage_events": [],
                                        "opportunities": [], "spend": []}
    for lead_id, spec in leads.items():
        rows["leads"].append([lead_id, _ts(spec["created"])])
        for touch in spec.get("touches", ()):
            when, channel, *campaign = touch.split()
            rows["touchpoints"].append([lead_id, _ts(when), channel,
                                        campaign[0] if campaign else None])
        for stage, when in spec.get("stages", {}).items():
            rows["stage_events"].append([lead_id, stage, _ts(when)])
        for created, status, amount, *closed in spec.get("deals", ()):
            rows["opportunities"].append([f"{lead_id}-{len(rows['opportunities'])}",
                                          _ts(created), status, amount, lead_id,
                                          _ts(closed[0]) if closed else None])
    rows["spend"] = [[_ts(d), amount, ch, camp, "marketing"] for d, amount, ch, camp in spend]
    columns = {"leads": "lead_id, created_at",
               "touchpoints": "lead_id, occurred_at, channel, campaign_id",
               "stage_events": "lead_id, stage, occurred_at",
               "opportunities": "opportunity_id, created_at, status, amount, lead_id, closed_at",
               "spend": "date, amount, channel, campaign_id, category"}
    for table, values in rows.items():
        if values:
            marks = ", ".join("?" * len(values[0]))
            con.executemany(f"insert into {table} ({columns[table]}) values ({marks})", values)
    return ws


def journeys_for(tmp_path: Path, leads: Mapping[str, Mapping[str, Any]],
                 spend: Sequence[tuple[str, float, str | None, str | None]] = (), *,
                 backend: str = "duckdb") -> Workspace:
    """A fresh workspace in `tmp_path` holding the journeys (see `fill`), on `backend` (the
    `backend` fixture's engine: a copy of the DuckDB workspace's tables)."""
    ws = fill(funnelmetrics.open(tmp_path / "w.duckdb"), leads, spend)
    if backend == "duckdb":
        return ws
    from journeys import _copy_to

    try:
        return _copy_to(ws, backend)
    finally:
        ws.close()


def won(day: str, amount: float) -> dict[str, Any]:
    """A lead won on `day` with one deal of `amount` (created 10 days before)."""
    created = (_ts(day) - dt.timedelta(days=10)).isoformat()
    return {"stages": {"won": day}, "deals": [(created, "won", amount, day)]}


def credits(df: Any) -> dict[str, tuple[float, float]]:
    """{key: (credited conversions, credited revenue)} of a result table's credited rows,
    rounded (a channel that was touched but got nothing is listed with zeros; left out here)."""
    key = df.columns[0]
    return {row[key]: (round(row["credited_conversions"], 9), round(row["credited_revenue"], 6))
            for _, row in df.iterrows()
            if row["credited_conversions"] or row["credited_revenue"]}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = funnelmetrics.open(tmp_path / "w.duckdb")
    yield w
    w.close()


def test_journey_is_touches_at_or_before_conversion(ws: Workspace) -> None:
    """A: ads (Jan 1), email (Feb 1 = the conversion instant, included), social (Feb 2, after:
    excluded). Last touch → email gets the one conversion and its 500."""
    fill(ws, {"A": {"created": "2026-01-01", "touches": [
        "2026-01-01 ads", "2026-02-01 email", "2026-02-02 social"], **won("2026-02-01", 500)}})
    df = attribute(ws, "last_touch")
    assert credits(df) == {"email": (1.0, 500.0)}
    assert list(df["channel"]) == ["email", "ads"]  # touched, credited nothing: listed with 0
    assert credits(attribute(ws, "linear")) == {"ads": (0.5, 250.0), "email": (0.5, 250.0)}


def test_conversion_is_first_reach_cumulative(ws: Workspace) -> None:
    """Cumulative mode: a lead with only a `won` event has reached `sql` at that event; a lead
    with sql on Jan 10 and won on Jan 20 reached sql on Jan 10 (the Jan 15 touch is after)."""
    fill(ws, {
        "A": {"created": "2026-01-01", "touches": ["2026-01-02 ads", "2026-01-15 email"],
              "stages": {"sql": "2026-01-10", "won": "2026-01-20"}},
        "B": {"created": "2026-01-01", "touches": ["2026-01-03 social"],
              "stages": {"won": "2026-01-05"}},
    })
    assert credits(attribute(ws, "last_touch", conversion="sql")) == {
        "ads": (1.0, 0.0), "social": (1.0, 0.0)}
    assert credits(attribute(ws, "last_touch", conversion="won")) == {
        "email": (1.0, 0.0), "social": (1.0, 0.0)}


def test_value_is_sum_of_won_amounts(ws: Workspace) -> None:
    """Value = the lead's won opportunities (300 + 200); the lost 900 and open 50 do not count."""
    fill(ws, {"A": {"created": "2026-01-01", "touches": ["2026-01-02 ads"],
                    "stages": {"won": "2026-02-01"},
                    "deals": [("2026-01-10", "won", 300.0, "2026-02-01"),
                              ("2026-01-11", "won", 200.0, "2026-03-01"),
                              ("2026-01-12", "lost", 900.0, "2026-02-01"),
                              ("2026-01-13", "open", 50.0)]}})
    assert credits(attribute(ws, "first_touch")) == {"ads": (1.0, 500.0)}


def test_no_touch_is_credited_and_reported(ws: Workspace) -> None:
    """B converts with no touch before its conversion (its only touch is after): the whole
    conversion and its 700 go to "(no touch)" in every model; non-converter C changes nothing."""
    fill(ws, {
        "A": {"created": "2026-01-01", "touches": ["2026-01-02 ads"], **won("2026-02-01", 100)},
        "B": {"created": "2026-01-01", "touches": ["2026-03-01 ads"], **won("2026-02-01", 700)},
        "C": {"created": "2026-01-01", "touches": ["2026-01-03 email"]},
    })
    for model in ("first_touch", "linear", "w_shaped", "markov", "shapley"):
        got = credits(attribute(ws, model))
        assert got[NO_TOUCH] == (1.0, 700.0), model
        assert got["ads"] == (1.0, 100.0), model
    summary = build_journeys(ws).summary
    assert (summary.conversions, summary.no_touch_conversions) == (2, 1)
    assert (summary.value, summary.no_touch_value) == (800.0, 700.0)


def test_lookback_days(ws: Workspace) -> None:
    """With a 30-day look-back before the Mar 1 conversion, only touches from Jan 30 00:00 on
    count: the Jan 1 ads touch drops out; with 1 day, nothing is left → "(no touch)"."""
    fill(ws, {"A": {"created": "2026-01-01", "touches": [
        "2026-01-01 ads", "2026-01-30 email", "2026-02-20 social"], **won("2026-03-01", 90)}})
    assert credits(attribute(ws, "linear")) == {
        "ads": (0.333333333, 30.0), "email": (0.333333333, 30.0), "social": (0.333333333, 30.0)}
    assert credits(attribute(ws, "linear", lookback_days=30)) == {
        "email": (0.5, 45.0), "social": (0.5, 45.0)}
    assert credits(attribute(ws, "linear", lookback_days=1)) == {NO_TOUCH: (1.0, 90.0)}


def test_ties_are_ordered_by_channel(ws: Workspace) -> None:
    """Two touches at the same instant: the journey order is by channel, so `ads` is first and
    `email` last whatever order the rows were loaded in."""
    fill(ws, {"A": {"created": "2026-01-01",
                    "touches": ["2026-01-05 email", "2026-01-05 ads"], **won("2026-02-01", 10)}})
    assert credits(attribute(ws, "first_touch")) == {"ads": (1.0, 10.0)}
    assert credits(attribute(ws, "last_touch")) == {"email": (1.0, 10.0)}


def test_range_selects_conversions_and_spend(ws: Workspace) -> None:
    """start/end select conversions by their instant and spend by its date (inclusive)."""
    fill(ws, {
        "A": {"created": "2026-01-01", "touches": ["2026-01-02 ads"], **won("2026-01-31", 100)},
        "B": {"created": "2026-01-01", "touches": ["2026-01-02 email"], **won("2026-02-01", 50)},
    }, spend=[("2026-01-31", 40.0, "ads", None), ("2026-02-01", 10.0, "ads", None),
              ("2026-01-15", 5.0, "email", None)])
    df = attribute(ws, "linear", start="2026-01-01", end="2026-01-31")
    got = {r["channel"]: (r["credited_revenue"], r["spend"], r["roi"])
           for _, r in df.iterrows()}
    assert got["ads"] == (100.0, 40.0, 1.5)  # (100 − 40) / 40
    assert got["email"][:2] == (0.0, 5.0) and got["email"][2] == -1.0


def test_as_of_ignores_later_events(ws: Workspace) -> None:
    """As of Feb 15 the Mar 1 win has not happened: nothing converted yet."""
    fill(ws, {"A": {"created": "2026-01-01", "touches": ["2026-01-02 ads"],
                    **won("2026-03-01", 100)}})
    assert attribute(ws, "linear", as_of="2026-02-15").empty
    assert credits(attribute(ws, "linear", as_of="2026-03-02")) == {"ads": (1.0, 100.0)}


def test_by_campaign(ws: Workspace) -> None:
    """By campaign: a touch without a campaign credits "(no campaign)"; spend by campaign."""
    fill(ws, {"A": {"created": "2026-01-01",
                    "touches": ["2026-01-02 ads c1", "2026-01-03 email"],
                    **won("2026-02-01", 100)}},
         spend=[("2026-01-01", 25.0, "ads", "c1")])
    df = attribute(ws, "linear", by="campaign_id")
    assert list(df.columns[:2]) == ["campaign_id", "credited_conversions"]
    assert credits(df) == {"c1": (0.5, 50.0), "(no campaign)": (0.5, 50.0)}
    assert df.set_index("campaign_id").loc["c1", "cost_per_conversion"] == 50.0


def test_bad_queries(ws: Workspace) -> None:
    with pytest.raises(QueryError, match="unknown conversion stage"):
        attribute(ws, conversion="bought")
    with pytest.raises(QueryError, match="--by"):
        attribute(ws, by="source")
    with pytest.raises(QueryError, match="unknown attribution model"):
        attribute(ws, "magic")
    with pytest.raises(QueryError, match="parameter"):
        attribute(ws, "linear", half_life=3)


def test_empty_workspace(ws: Workspace) -> None:
    """No data: every model returns an empty table, no error."""
    from funnelmetrics.attribution import MODELS

    for model in MODELS:
        df = attribute(ws, model)
        assert df.empty, model
        assert list(df.columns) == ["channel", "credited_conversions", "credited_revenue",
                                    "spend", "roi", "cost_per_conversion"]


def test_credited_revenue_for_marketing_roi(ws: Workspace) -> None:
    """The hook the marketing_roi metric calls: credited revenue by channel, "(no touch)" out."""
    from funnelmetrics.attribution import credited_revenue

    fill(ws, {"A": {"created": "2026-01-01", "touches": ["2026-01-02 ads", "2026-01-03 email"],
                    **won("2026-02-01", 100)},
              "B": {"created": "2026-01-01", **won("2026-02-01", 50)}})
    got = credited_revenue(ws, "linear", start="2026-01-01", end="2026-12-31")
    assert got.to_dict() == {"ads": 50.0, "email": 50.0}
    assert got.name == "credited_revenue" and got.index.name == "channel"
    assert credited_revenue(ws, "first_touch", include_no_touch=True).to_dict() == {
        "ads": 100.0, "email": 0.0, NO_TOUCH: 50.0}


@pytest.mark.parametrize("as_of", [None, "2026-01-20"])
def test_conversion_instant_equals_reach_times(ws: Workspace, as_of: str | None) -> None:
    """The one-stage conversion query gives `reach_times`' cumulative reach of every stage."""
    from funnelmetrics.attribution.journeys import _converted
    from funnelmetrics.compile.time import parse_instant
    from funnelmetrics.config import Mode
    from funnelmetrics.semantic.model import Scope
    from funnelmetrics.semantic.reach import reach_column, reach_times

    fill(ws, {
        "A": {"created": "2026-01-01", "stages": {"mql": "2026-01-05", "won": "2026-01-25"}},
        "B": {"created": "2026-01-02", "stages": {"sql": "2026-01-03", "mql": "2026-01-09"}},
        "C": {"created": "2026-01-03", "stages": {"opportunity": "2026-01-15"}},
        "D": {"created": "2026-01-30"},
    })
    scope = Scope(ws, as_of=parse_instant(as_of, "UTC"))
    funnel = ws.config.funnel()
    reach = reach_times(scope, funnel, Mode.CUMULATIVE).execute()
    for stage in funnel.stages:
        want = {r.lead_id: r[reach_column(stage)] for _, r in reach.iterrows()
                if not pd.isna(r[reach_column(stage)])}
        got = _converted(scope, stage).execute()
        assert dict(zip(got.lead_id, got.converted_at, strict=True)) == want, stage
