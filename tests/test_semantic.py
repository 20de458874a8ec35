"""The semantic model: entity declarations, dimensions over time, a user's own columns, metrics
whose reach needs follow from their definition, and registering a metric of one's own."""

from __future__ import annotations

import dataclasses
import math

import pytest
from journeys import journeys

from funnelmetrics import catalog
from funnelmetrics.catalog import common as c
from funnelmetrics.catalog.model import Agg, Kind, Measure, Metric, Text, Unit
from funnelmetrics.catalog.rules import RULES, check, check_all
from funnelmetrics.errors import ConfigError
from funnelmetrics.semantic import registry

RANGE = {"start": "2026-01-01", "end": "2026-03-31", "as_of": "2026-04-01"}


def rows(df, *dims):
    """{(period, *dims): value} with NaN as None."""
    out = {}
    for rec in df.to_dict("records"):
        value = rec["value"]
        out[(str(rec["period_start"]), *(rec[d] for d in dims))] = \
            None if value is None or (isinstance(value, float) and math.isnan(value)) else value
    return out


# ---- declarations ------------------------------------------------------------------------------
def test_every_entity_a_metric_reads_is_declared_once_with_its_table():
    catalog.load()
    read = {m.entity for m in catalog.all_metrics()} | {
        ms.entity for m in catalog.all_metrics() for ms in m.measures.values()
        if isinstance(ms.entity, str)}
    assert read <= set(registry.ENTITIES)
    # derived entities name the canonical table drill-down shows for them
    assert registry.get("reach").table == "leads"
    assert registry.get("account_mrr").table == "subscriptions"
    assert registry.get("new_customers").table == "opportunities"
    # calendar dates are read in no time zone; instants are not dimensions
    assert registry.get("spend").calendar_dates == ("date",)
    assert "created_at" in registry.get("leads").not_dimensions


def test_an_unknown_entity_is_a_clear_error():
    from funnelmetrics.errors import QueryError

    with pytest.raises(QueryError, match="unknown entity 'nope'; entities: .*leads"):
        registry.get("nope")


# ---- a dimension over time: a deal's stage at each period's end --------------------------------
DEALS = [
    # O1: discovery from Jan 6, proposal from Feb 10, negotiation from Mar 15; open throughout
    dict(opportunity_id="O1", created_at="2026-01-05", status="open", amount=100,
         deal_stage="negotiation"),
    # O2: no stage history: its own (today's) stage, proposal
    dict(opportunity_id="O2", created_at="2026-02-01", status="open", amount=50,
         deal_stage="proposal"),
    # O3: discovery from Jan 10, won on Feb 20 (open at January's end only)
    dict(opportunity_id="O3", created_at="2026-01-08", status="won", amount=30,
         closed_at="2026-02-20", deal_stage="closed"),
]
STAGE_EVENTS = [
    dict(opportunity_id="O1", deal_stage="discovery", occurred_at="2026-01-06"),
    dict(opportunity_id="O1", deal_stage="proposal", occurred_at="2026-02-10"),
    dict(opportunity_id="O1", deal_stage="negotiation", occurred_at="2026-03-15"),
    dict(opportunity_id="O3", deal_stage="discovery", occurred_at="2026-01-10"),
    dict(opportunity_id="O3", deal_stage="closed", occurred_at="2026-02-20"),
]


def test_pipeline_value_by_deal_stage_uses_the_stage_at_each_period_end(make_ws):
    ws = make_ws(opportunities=DEALS, deal_stage_events=STAGE_EVENTS)
    got = rows(ws.metric("pipeline_value", by="deal_stage", **RANGE), "deal_stage")
    # Jan end: O1 (discovery) 100 + O3 (discovery) 30; Feb end: O1 proposal 100 + O2 (no
    # history: its own stage) proposal 50, O3 won; Mar end: O1 negotiation 100, O2 proposal 50.
    # (Today's stage column would put O1 in negotiation every month.)
    assert {k: v for k, v in got.items() if v} == {
        ("2026-01-01", "discovery"): 130, ("2026-02-01", "proposal"): 150,
        ("2026-03-01", "negotiation"): 100, ("2026-03-01", "proposal"): 50}
    filtered = ws.metric("pipeline_value", where={"deal_stage": "proposal"}, **RANGE)
    assert list(filtered["value"]) == [0, 150, 50]
    # the total does not depend on the split
    assert list(ws.metric("pipeline_value", **RANGE)["value"]) == [130, 150, 150]


def test_a_period_measure_by_deal_stage_reads_the_deal_own_column(make_ws):
    ws = make_ws(opportunities=DEALS, deal_stage_events=STAGE_EVENTS)
    won = rows(ws.metric("won_revenue", by="deal_stage", **RANGE), "deal_stage")
    assert won[("2026-02-01", "closed")] == 30  # O3, won in February, stage "closed"


# ---- a user's own column is never replaced by a derived dimension -------------------------------
def test_a_users_own_channel_column_wins_over_the_derived_channel(tmp_path):
    ws = journeys(tmp_path, {"L1": [("lead", "2026-01-02")], "L2": [("lead", "2026-01-03")]},
                  leads={"L1": {"source": "web"}, "L2": {"source": "ads"}},
                  opportunities=[
                      dict(opportunity_id="O1", lead_id="L1", created_at="2026-01-05",
                           status="won", closed_at="2026-01-20", amount=100),
                      dict(opportunity_id="O2", lead_id="L2", created_at="2026-01-06",
                           status="lost", closed_at="2026-01-21", amount=100)])
    try:
        before = rows(ws.metric("win_rate", by="channel", **RANGE), "channel")
        # derived: a deal's channel is its lead's (campaign's channel, else source)
        assert before[("2026-01-01", "web")] == 1.0 and before[("2026-01-01", "ads")] == 0.0
        ws.raw_sql('ALTER TABLE opportunities ADD COLUMN "channel" VARCHAR')
        ws.raw_sql("UPDATE opportunities SET channel = 'partner'")
        after = rows(ws.metric("win_rate", by="channel", **RANGE), "channel")
        assert after == {("2026-01-01", "partner"): 0.5, ("2026-02-01", "partner"): None,
                         ("2026-03-01", "partner"): None}
    finally:
        ws.close()


# ---- what a metric reads follows from its definition (no hints) --------------------------------
def _days_in(metric_id: str, expr) -> Metric:
    return dataclasses.replace(
        catalog.get("time_in_stage"), id=metric_id,
        measures={"days": Measure("reach", Agg.MEAN, time=c.reach_of("stage"), expr=expr,
                                  where=c.moved_on_from())})


@pytest.fixture
def own_metrics():
    """Metrics registered by a test, removed again after it (the catalogue is global)."""
    added: list[str] = []

    def register(*metrics: Metric) -> None:
        catalog.register(*metrics)
        added.extend(m.id for m in metrics)

    yield register
    for metric_id in added:
        catalog.CATALOG.pop(metric_id, None)


def test_a_new_duration_metric_is_right_alone_and_in_a_batch(make_ws, own_metrics):
    ws = make_ws({"A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-10")],
                  "B": [("lead", "2026-01-05"), ("mql", "2026-01-06"), ("won", "2026-01-16")]})
    # one that says what it reads, one that does not (an opaque expression: every stage is read)
    opaque = _days_in("days_in_stage_opaque", lambda ctx, t: c.duration_in()(ctx, t))
    own_metrics(_days_in("days_in_stage_declared", c.duration_in()), opaque)
    query = {"stage": "mql", "grain": "all", **RANGE}
    # A: mql 01-03 → sql 01-10 = 7 days; B: mql 01-06 → won 01-16 (cumulative: sql, opportunity
    # reached then too) = 10 days; mean 8.5
    for metric_id in ("time_in_stage", "days_in_stage_declared", "days_in_stage_opaque"):
        assert list(ws.metric(metric_id, **query)["value"]) == [8.5], metric_id
    batch = ws.metrics(["days_in_stage_declared", "days_in_stage_opaque", "stage_reached"],
                       **query)
    assert [list(df["value"]) for df in batch] == [[8.5], [8.5], [2]]


def test_registering_before_the_catalogue_is_read_keeps_every_built_in_metric(tmp_path):
    import subprocess
    import sys

    script = (
        "import dataclasses\n"
        "from funnelmetrics import catalog\n"
        "from funnelmetrics.catalog import deals\n"
        "catalog.register(dataclasses.replace(deals.WIN_RATE, id='my_win_rate'))\n"
        "print(len(catalog.all_metrics()), catalog.get('win_rate').id, "
        "catalog.get('my_win_rate').id)\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    built_in = len(catalog.all_metrics())
    assert out == [str(built_in + 1), "win_rate", "my_win_rate"]


def test_registering_an_existing_id_is_refused_and_removes_nothing(own_metrics):
    before = len(catalog.all_metrics())
    with pytest.raises(ConfigError, match="C000 win_rate: metric 'win_rate' is already"):
        own_metrics(catalog.get("win_rate"))
    assert len(catalog.all_metrics()) == before and catalog.get("win_rate")


# ---- catalogue rules -----------------------------------------------------------------------------
def test_every_built_in_metric_passes_every_rule():
    assert check_all(catalog.all_metrics()) == []


def _count(**changes) -> Metric:
    base = Metric(id="my_count", kind=Kind.COUNT, name=Text("A", "B", "C"),
                  description=Text("a", "b", "c"), unit=Unit.COUNT, higher_is_better=True,
                  measures={"n": Measure("leads", Agg.COUNT, time="created_at")},
                  combine=c.value_of("n"), entity="leads")
    return dataclasses.replace(base, **changes)


BROKEN = {
    "C001": _count(id="My Count"),
    "C002": _count(description=Text("a", "", "c")),
    "C003": _count(measures={"n": Measure("nowhere", Agg.COUNT, time="created_at")}),
    "C004": _count(measures={"n": Measure("leads", Agg.SUM, time="created_at")}),
    "C005": _count(kind=Kind.RATIO),
    "C006": _count(kind=Kind.COHORT_CONVERSION, unit=Unit.RATIO, is_ratio=True),
    "C007": _count(kind=Kind.SNAPSHOT),
    "C008": _count(lag_periods=1),
    "C009": _count(unit=Unit.CURRENCY),
    "C010": _count(params=(c.STAGE, c.STAGE)),
    "C011": _count(benchmark=(0.5, 0.1)),
}


@pytest.mark.parametrize("code", sorted(RULES))
def test_each_rule_finds_its_problem(code):
    assert code in BROKEN, f"no broken example for {code}"
    assert check(_count()) == []
    found = {p.code for p in check(BROKEN[code])}
    assert code in found, (code, [str(p) for p in check(BROKEN[code])])


def test_a_metric_breaking_a_rule_is_not_registered(own_metrics):
    with pytest.raises(ConfigError, match=r"C005 my_count: a ratio metric must be is_ratio"):
        own_metrics(BROKEN["C005"])
    assert "my_count" not in catalog.CATALOG


# ---- calendar dates are local days, in the default range and as of an instant ------------------
def _spend_ws(tmp_path, backend="duckdb"):
    from journeys import _copy_to, _insert

    ws = journeys(tmp_path, {"L1": [("lead", "2026-01-15T12:00")]}, leads={"L1": {"source": "ads"}},
                  timezone="America/New_York")
    _insert(ws, "spend", [dict(date="2026-01-01", amount=100, channel="ads"),
                          dict(date="2026-01-31", amount=50, channel="ads"),
                          dict(date="2026-02-01", amount=10, channel="ads")])
    return ws if backend == "duckdb" else _copy_to(ws, backend)


def test_a_default_range_reads_calendar_dates_as_their_own_day(tmp_path):
    ws = _spend_ws(tmp_path)
    try:
        df = ws.metric("cost_per_lead", grain="all")
        # New York is UTC−5: read as instants, 2026-01-01 00:00 would be Dec 31 local and the
        # range would start 2025-12-31; read as days it is Jan 1 … Feb 1, all 160 of spend
        assert str(df["period_start"].iloc[0]) == "2026-01-01"
        assert float(df["numerator"].iloc[0]) == 160.0
    finally:
        ws.close()


def test_a_spend_day_exists_once_it_has_begun_in_the_workspace_zone(tmp_path):
    ws = _spend_ws(tmp_path)
    try:
        def spend(as_of: str) -> float:
            df = ws.metric("cost_per_lead", grain="all", start="2026-01-01", end="2026-02-28",
                           as_of=as_of)
            return float(df["numerator"].iloc[0])

        # as of Jan 31 00:00 New York (05:00 UTC) the 31st has not begun: 100 only
        assert spend("2026-01-31") == 100.0
        assert spend("2026-01-31T00:00:01") == 150.0  # it has: 100 + 50
        assert spend("2026-02-02") == 160.0
    finally:
        ws.close()
