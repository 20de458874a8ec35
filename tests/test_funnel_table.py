"""The funnel view asks the catalogue (issue "One semantic model", item 4): every figure is a
catalogue metric's, asked in one batch; its default period is the last full quarter.

The workspace is in Jakarta (UTC+7): a date alone is 00:00 UTC, 07:00 local, the same day.
"""

from __future__ import annotations

import math

import pytest

from funnelmetrics.errors import FunnelmetricsError, QueryError
from funnelmetrics.funnel import funnel_table

CAST = {
    "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-05"),
          ("opportunity", "2026-01-20"), ("won", "2026-02-20")],
    "B": [("lead", "2026-01-10"), ("sql", "2026-01-15")],  # mql reached at its sql (cumulative)
    "C": [("lead", "2026-02-03"), ("mql", "2026-02-05")],
    "D": [("lead", "2026-02-10")],
    "E": [("lead", "2025-12-20"), ("mql", "2026-01-02")],  # a December lead, mql in January
    "F": [("lead", "2026-03-31T20:00")],  # 1 April 03:00 in Jakarta
}
SOURCES = {"A": {"source": "web"}, "B": {"source": "ads"}, "C": {"source": "web"},
           "E": {"source": "ads"}}
STAGES = ["lead", "mql", "sql", "opportunity", "won"]
Q1 = {"start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture
def ws(make_ws):
    return make_ws(CAST, leads=SOURCES, timezone="Asia/Jakarta")


def table(df) -> dict[str, dict]:
    return {r["stage"]: {k: (None if isinstance(v, float) and math.isnan(v) else v)
                         for k, v in r.items()} for r in df.to_dict("records")}


def test_default_period_is_the_last_full_quarter_in_local_time(ws):
    """As of 1 April (Jakarta): Q1 2026. Reached: lead A, B, C, D (E is December's, F came
    after); mql A, B (at its sql), C, E; sql A, B; opportunity A; won A.
    lead → mql 3/4 (D did not), days A 2, B 5, C 2 → median 2; mql → sql 2/4 (A, B), days A 2,
    B 0 → median 1; sql → opportunity 1/2, A 15 days; opportunity → won 1/1, A 31 days."""
    got = table(funnel_table(ws, as_of="2026-04-01"))
    assert [got[s]["reached"] for s in STAGES] == [4, 4, 2, 1, 1]
    assert [got[s]["converted_to_next"] for s in STAGES] == [3, 2, 1, 1, None]
    assert got["lead"]["conversion_to_next"] == pytest.approx(0.75)
    assert got["lead"]["drop_off"] == pytest.approx(0.25)
    assert got["mql"]["conversion_to_next"] == pytest.approx(0.5)
    assert got["sql"]["drop_off"] == pytest.approx(0.5)
    assert got["opportunity"]["conversion_to_next"] == 1.0
    assert [got[s]["median_days_in_stage"] for s in STAGES] == pytest.approx(
        [2.0, 1.0, 15.0, 31.0, None])
    assert got["won"]["conversion_to_next"] is None and got["won"]["drop_off"] is None


def test_one_bound_takes_the_data_for_the_other(ws):
    """From 1 Feb to the data's end: leads C, D, F (1 April local), mql C, won A (Feb 20).
    To 31 Jan from the data's start: leads E, A, B; mql E, A, B; sql A, B; opportunity A."""
    assert list(funnel_table(ws, start="2026-02-01")["reached"]) == [3, 1, 0, 0, 1]
    assert list(funnel_table(ws, end="2026-01-31")["reached"]) == [3, 3, 2, 1, 0]


def test_window_days_limits_the_conversions(ws):
    """A 3-day window: lead → mql A (2 d), C (2 d), not B (5 d): 2/4; mql → sql A (2 d), B
    (0 d): 2/4."""
    got = table(funnel_table(ws, **Q1, window_days=3))
    assert got["lead"]["converted_to_next"] == 2
    assert got["lead"]["conversion_to_next"] == pytest.approx(0.5)
    assert got["mql"]["conversion_to_next"] == pytest.approx(0.5)


def test_every_figure_is_the_catalogues(ws):
    """By source, each figure equals what `metric` gives for that stage and source."""
    df = funnel_table(ws, **Q1, by="source")
    q = {"grain": "all", "by": "source", **Q1}
    for i, stage in enumerate(STAGES):
        reached = ws.metric("stage_reached", stage=stage, **q)
        want = {s: v for s, v in zip(reached["source"], reached["value"], strict=True)}
        rows = df[df["stage"] == stage]
        for source, got in zip(rows["source"], rows["reached"], strict=True):
            assert got == want.get(source, 0), (stage, source)
        if i + 1 == len(STAGES):
            continue
        pair = {"from_stage": stage, "to_stage": STAGES[i + 1]}
        rate = ws.metric("stage_conversion_rate", **pair, **q).set_index("source")
        days = ws.metric("time_in_stage", stage=stage, stat="median", **q).set_index("source")
        for row in rows.to_dict("records"):
            src = row["source"]
            if src in rate.index:
                assert row["converted_to_next"] == rate.loc[src, "numerator"]
                assert _same(row["conversion_to_next"], rate.loc[src, "value"])
            if src in days.index:
                assert _same(row["median_days_in_stage"], days.loc[src, "value"])
    assert set(df["source"].dropna()) == {"web", "ads"}  # and D's unknown source, as null


def _same(a, b) -> bool:
    none = (a is None or a != a, b is None or b != b)
    return none[0] and none[1] or (not any(none) and a == pytest.approx(b))


def test_one_batch(ws, monkeypatch):
    calls = []
    original = ws.metrics

    def spy(queries, **common):
        queries = list(queries)
        calls.append([q[0] for q in queries])
        return original(queries, **common)

    monkeypatch.setattr(ws, "metrics", spy)
    funnel_table(ws, **Q1)
    assert len(calls) == 1
    assert sorted(set(calls[0])) == ["stage_conversion_rate", "stage_drop_off", "stage_reached",
                                     "time_in_stage"]
    assert len(calls[0]) == 5 + 3 * 4  # reached per stage; the other three per transition


@pytest.mark.parametrize(("query", "message"), [
    ({"funnel": "nope"}, "no funnel named"),
    ({"start": "2026-02-30"}, "not a date"),
    ({"start": "2026-03-01", "end": "2026-02-01"}, "before start"),
    ({**Q1, "by": "shoe_size"}, "unknown dimension"),
    ({**Q1, "mode": "sideways"}, "mode"),
])
def test_mistakes_are_clear_errors(ws, query, message):
    with pytest.raises(FunnelmetricsError, match=message):
        funnel_table(ws, **query)


def test_bad_as_of_is_a_query_error(ws):
    with pytest.raises(QueryError, match="as-of"):
        funnel_table(ws, as_of="yesterday")
