"""Properties that must hold for any data (Hypothesis): random small journeys and deals."""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journeys import journeys

from funnelmetrics.funnel import funnel_table

STAGES = ("lead", "mql", "sql", "opportunity", "won")
T0 = dt.datetime(2026, 1, 1)
RANGE = {"start": "2026-01-01", "end": "2026-06-30"}  # holds every instant generated below
PROPERTY = settings(max_examples=20, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

lead = st.fixed_dictionaries({
    "created": st.integers(0, 89 * 24),  # hours after Jan 1: created in Q1
    "source": st.sampled_from(["web", "ads", None]),
    # later stages the lead has an event for, hours after created_at (any order: skips allowed)
    "events": st.dictionaries(st.sampled_from(STAGES[1:]), st.integers(0, 60 * 24), max_size=4),
})
deal = st.fixed_dictionaries({
    "created": st.integers(0, 89 * 24),
    "status": st.sampled_from(["open", "won", "lost"]),
    "cycle": st.integers(0, 60 * 24),
    "amount": st.integers(0, 10_000),
})


def _iso(hours: int) -> str:
    return (T0 + dt.timedelta(hours=hours)).isoformat()


def build(tmp: str, leads: list[dict], deals: list[dict] | None = None, backend: str = "duckdb"):
    events = {}
    attrs = {}
    for i, spec in enumerate(leads):
        lid = f"L{i}"
        events[lid] = [("lead", _iso(spec["created"]))] + [
            (stage, _iso(spec["created"] + delay)) for stage, delay in spec["events"].items()]
        attrs[lid] = {"source": spec["source"]}
    opportunities = [
        {"created_at": _iso(d["created"]), "status": d["status"], "amount": d["amount"],
         **({"closed_at": _iso(d["created"] + d["cycle"])} if d["status"] != "open" else {})}
        for d in deals or []]
    return journeys(Path(tmp), events, leads=attrs, opportunities=opportunities, backend=backend)


def examples(backend: str, count: int = 20) -> settings:
    """`count` examples on DuckDB; a few on the second engine (Spark runs each query as a job,
    seconds each): the properties are the engine's too, the breadth is DuckDB's."""
    return settings(PROPERTY, max_examples=count if backend == "duckdb" else 3)


def defined(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


stage_pair = st.sampled_from([(a, b) for i, a in enumerate(STAGES) for b in STAGES[i + 1:]])


def test_every_rate_is_between_0_and_1(backend):
    @examples(backend)
    @given(leads=st.lists(lead, max_size=8), deals=st.lists(deal, max_size=6), pair=stage_pair,
           mode=st.sampled_from(["cumulative", "strict"]))
    def check(leads, deals, pair, mode):
        with tempfile.TemporaryDirectory() as tmp:
            ws = build(tmp, leads, deals, backend)
            try:
                frames = [
                    ws.metric("stage_conversion_rate", from_stage=pair[0], to_stage=pair[1],
                              mode=mode, **RANGE),
                    ws.metric("stage_drop_off", from_stage=pair[0], to_stage=pair[1], mode=mode,
                              **RANGE),
                    ws.metric("lead_conversion_rate", mode=mode, **RANGE),
                    ws.metric("win_rate", **RANGE),
                ]
            finally:
                ws.close()
        for df in frames:
            for value, num, den in zip(df["value"], df["numerator"], df["denominator"], strict=True):
                assert 0 <= num <= den  # counts: converted (or lost) never exceed the cohort
                if defined(value):
                    assert 0.0 <= value <= 1.0
                else:
                    assert den == 0  # null only for an empty cohort / nothing closed

    check()


def test_cumulative_funnel_never_widens(backend):  # six queries per example
    @examples(backend, 15)
    @given(leads=st.lists(lead, max_size=8))
    def check(leads):
        with tempfile.TemporaryDirectory() as tmp:
            ws = build(tmp, leads, backend=backend)
            try:
                counts = [ws.metric("stage_reached", stage=s, grain="all", **RANGE)["value"].iloc[0]
                          for s in STAGES]
                funnel = funnel_table(ws, **RANGE)
            finally:
                ws.close()
        assert counts[0] == len(leads)  # every lead reaches the first stage at created_at
        assert all(a >= b for a, b in zip(counts, counts[1:], strict=False)), counts
        assert list(funnel["reached"]) == counts  # the funnel view says the same
        for _, row in funnel.iterrows():
            if defined(row["converted_to_next"]):
                assert row["converted_to_next"] <= row["reached"]

    check()


def test_drop_off_plus_conversion_is_one(backend):
    @examples(backend)
    @given(leads=st.lists(lead, max_size=8), pair=stage_pair,
           mode=st.sampled_from(["cumulative", "strict"]),
           grain=st.sampled_from(["week", "month", "quarter"]))
    def check(leads, pair, mode, grain):
        q = {"from_stage": pair[0], "to_stage": pair[1], "mode": mode, "grain": grain, **RANGE}
        with tempfile.TemporaryDirectory() as tmp:
            ws = build(tmp, leads, backend=backend)
            try:
                rate = ws.metric("stage_conversion_rate", **q)
                drop = ws.metric("stage_drop_off", **q)
            finally:
                ws.close()
        assert list(rate["period_start"]) == list(drop["period_start"])
        assert list(rate["denominator"]) == list(drop["denominator"])
        for r, d, den, rn, dn in zip(rate["value"], drop["value"], rate["denominator"],
                                     rate["numerator"], drop["numerator"], strict=True):
            assert rn + dn == den  # converted + lost = entered
            assert defined(r) == defined(d)
            if defined(r):
                assert abs(r + d - 1.0) < 1e-9

    check()


def test_leads_created_by_source_adds_up_to_the_total(backend):
    @examples(backend)
    @given(leads=st.lists(lead, max_size=10), grain=st.sampled_from(["week", "month", "all"]))
    def check(leads, grain):
        with tempfile.TemporaryDirectory() as tmp:
            ws = build(tmp, leads, backend=backend)
            try:
                total = ws.metric("leads_created", grain=grain, **RANGE)
                split = ws.metric("leads_created", grain=grain, by="source", **RANGE)
            finally:
                ws.close()
        summed = split.groupby("period_start")["value"].sum()
        for period, value in zip(total["period_start"], total["value"], strict=True):
            assert summed.get(period, 0) == value
        assert total["value"].sum() == len(leads)


    check()
