"""Batches (`ws.batch()`, `ws.metrics()`): shared work, same figures, nothing left behind."""

from __future__ import annotations

import pandas as pd
import pytest
from journeys import journeys, values

JOURNEYS = {
    "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-10"),
          ("won", "2026-02-20")],
    "B": [("lead", "2026-01-10"), ("sql", "2026-01-15")],  # skips mql
    "C": [("lead", "2026-02-01"), ("mql", "2026-02-05")],
    "D": [("lead", "2026-02-11")],
}
LEADS = {"A": {"source": "web"}, "B": {"source": "ads"}, "C": {"source": "web"},
         "D": {"source": "ads"}}
OPPS = [
    {"opportunity_id": "O1", "lead_id": "A", "created_at": "2026-01-20", "status": "won",
     "amount": 1000, "closed_at": "2026-02-20", "currency": "EUR"},
    {"opportunity_id": "O2", "lead_id": "B", "created_at": "2026-01-20", "status": "lost",
     "amount": 500, "closed_at": "2026-02-25"},
]
RANGE = {"start": "2026-01-01", "end": "2026-02-28", "grain": "month"}
QUERIES = [
    ("leads_created", {}),
    ("stage_reached", {"stage": "lead"}),
    ("stage_reached", {"stage": "mql"}),
    ("stage_reached", {"stage": "sql", "by": "source"}),
    ("stage_conversion_rate", {"from_stage": "lead", "to_stage": "mql"}),
    ("stage_conversion_rate", {"from_stage": "mql", "to_stage": "sql", "where": {"source": "web"}}),
    ("time_in_stage", {"stage": "lead"}),
    ("time_in_stage", {"stage": "mql", "stat": "median"}),
    ("stage_reached", {"stage": "sql", "mode": "strict"}),
    ("stage_reached", {"stage": "mql", "as_of": "2026-01-05"}),
    ("lead_conversion_rate", {}),
    ("win_rate", {}),
    ("average_deal_size", {}),
    ("sales_cycle_days", {}),
    ("pipeline_value", {}),
]


@pytest.fixture
def ws(tmp_path):
    w = journeys(tmp_path, JOURNEYS, leads=LEADS, opportunities=OPPS)
    w.duckdb.execute("INSERT INTO fx_rates VALUES ('EUR', DATE '2026-01-01', 1.1)")
    yield w
    w.close()


def temp_tables(ws) -> list[str]:
    return [r[0] for r in ws.duckdb.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]


def test_a_batch_gives_the_figures_of_single_queries(ws):
    single = [ws.metric(m, **RANGE, **q) for m, q in QUERIES]
    batched = ws.metrics(QUERIES, **RANGE)
    assert len(batched) == len(single)
    for (m, q), one, many in zip(QUERIES, single, batched, strict=True):
        pd.testing.assert_frame_equal(one, many, obj=f"{m} {q}")


def test_figures_in_a_batch_are_the_hand_worked_ones(ws):
    reached_mql, conversion, days, win = ws.metrics(
        [("stage_reached", {"stage": "mql"}),
         ("stage_conversion_rate", {"from_stage": "lead", "to_stage": "mql"}),
         ("time_in_stage", {"stage": "lead"}), "win_rate"], **RANGE)
    # cumulative mode: A (mql 01-03) and B (sql 01-15 counts for mql) in January, C in February
    assert values(reached_mql) == [2, 1]
    # January's cohort A, B both reached mql; February's C did, D not
    assert values(conversion) == [1.0, 0.5]
    # lead → next reached stage: A 2 days, B 5 days (mean 3.5); C 4 days
    assert values(days) == [3.5, 4.0]
    # nothing closed in January; February: O1 won, O2 lost
    assert values(win) == [None, 0.5]


def test_the_shared_reach_table_is_dropped_when_the_batch_ends(ws):
    with ws.batch():
        ws.metric("stage_reached", stage="mql", **RANGE)
        ws.metric("stage_reached", stage="sql", **RANGE)
        assert len(temp_tables(ws)) == 1  # one reach table, shared by both queries
    assert temp_tables(ws) == []


def test_nested_batches_join_the_outer_one(ws):
    with ws.batch():
        ws.metric("stage_reached", stage="mql", **RANGE)
        with ws.batch():
            ws.metric("stage_reached", stage="sql", **RANGE)
        assert len(temp_tables(ws)) == 1  # the inner batch neither rebuilt nor dropped it
    assert temp_tables(ws) == []


def test_a_failing_query_still_ends_the_batch(ws):
    from funnelmetrics.errors import QueryError

    with pytest.raises(QueryError), ws.batch():
        ws.metric("stage_reached", stage="mql", **RANGE)
        ws.metric("no_such_metric", **RANGE)
    assert temp_tables(ws) == [] and ws.batch_state is None


def test_a_column_added_behind_the_workspace_is_seen(ws):
    assert values(ws.metric("leads_created", **RANGE)) == [2, 2]
    ws.duckdb.execute("ALTER TABLE leads ADD COLUMN tier VARCHAR")
    ws.duckdb.execute("UPDATE leads SET tier = 'gold' WHERE lead_id IN ('A', 'C')")
    df = ws.metric("leads_created", by="tier", **RANGE)
    assert sorted(zip(df.tier, df.value, strict=True), key=str) == [
        ("gold", 1.0), ("gold", 1.0), (None, 1.0), (None, 1.0)]


def test_rows_written_between_batches_are_counted(ws):
    with ws.batch():
        assert values(ws.metric("stage_reached", stage="mql", **RANGE)) == [2, 1]
    ws.duckdb.execute("INSERT INTO stage_events VALUES ('D', 'mql', TIMESTAMP '2026-02-12')")
    with ws.batch():
        assert values(ws.metric("stage_reached", stage="mql", **RANGE)) == [2, 2]


def test_where_as_key_value_text_is_the_same_filter(ws):
    """Python takes `where` as on the command line too; a malformed pair is a one-line error."""
    from funnelmetrics.errors import QueryError

    query = {"stage": "mql", **RANGE}
    as_text = ws.metric("stage_reached", where="source=web", **query)
    # source=web: A (mql 01-03) in January, C (mql 02-05) in February
    assert values(as_text) == [1, 1]
    pd.testing.assert_frame_equal(as_text, ws.metric("stage_reached", where={"source": "web"},
                                                     **query))
    with pytest.raises(QueryError, match="KEY=VALUE"):
        ws.metric("stage_reached", where="source", **query)


# ---- one aggregate for the queries of `metrics` that group the same rows ----------------------
def fused_answers(ws, queries, monkeypatch) -> tuple[list, int]:
    """The queries' results, and how many of their grouped aggregates came from a fused one."""
    from funnelmetrics.compile.batch import Batch

    served = []
    grouped = Batch.grouped

    def spy(self, rows, keys, aggregates):
        out = grouped(self, rows, keys, aggregates)
        if self.plan is None:
            fused = [f.table for f in self.fused.values()]
            served.append(any(f.op() in out.op().find(type(f.op())) for f in fused))
        return out

    monkeypatch.setattr(Batch, "grouped", spy)
    return ws.metrics(queries, **RANGE), sum(served)


def test_queries_of_one_cohort_share_one_aggregate(ws, monkeypatch):
    queries = [("stage_reached", {"stage": "lead"}),
               ("stage_conversion_rate", {"from_stage": "lead", "to_stage": "mql"}),
               ("lead_conversion_rate", {}),
               ("time_in_stage", {"stage": "lead"})]
    (reached, to_mql, to_won, days), fused = fused_answers(ws, queries, monkeypatch)
    assert fused == 4  # all four read leads by when they reached `lead`: one aggregate
    assert values(reached) == [2, 2]  # A, B in January; C, D in February
    assert values(to_mql) == [1.0, 0.5]  # A, B (cumulatively) reached mql; C did, D not
    assert values(to_won) == [0.5, 0.0]  # A won within the window; B, C, D did not
    assert values(days) == [3.5, 4.0]  # A 2 days, B 5 days to their next stage; C 4 days


def test_fused_queries_split_by_a_dimension_and_filtered(ws, monkeypatch):
    queries = [("stage_reached", {"stage": "mql", "by": "source"}),
               ("stage_conversion_rate", {"from_stage": "mql", "to_stage": "sql",
                                          "by": "source"}),
               ("stage_reached", {"stage": "mql", "where": {"source": "web"}}),
               ("time_in_stage", {"stage": "mql", "where": {"source": "web"}})]
    (reached, rate, web, web_days), fused = fused_answers(ws, queries, monkeypatch)
    assert fused == 4  # two slots (by source; where source=web), two queries each
    by_source = {(str(p), s): v for p, s, v in zip(reached.period_start, reached.source,
                                                  reached.value, strict=True)}
    # January: A (web, mql 01-03), B (ads, sql 01-15 counts for mql); February: C (web)
    assert by_source == {("2026-01-01", "web"): 1, ("2026-01-01", "ads"): 1,
                         ("2026-02-01", "web"): 1, ("2026-02-01", "ads"): 0}
    rates = {(str(p), s): v for p, s, v in zip(rate.period_start, rate.source, rate.value,
                                              strict=True)}
    # A reached sql 7 days after mql; B reached both on 01-15; C never reached sql
    assert rates[("2026-01-01", "web")] == 1.0 and rates[("2026-01-01", "ads")] == 1.0
    assert rates[("2026-02-01", "web")] == 0.0
    assert values(web) == [1, 1]
    assert values(web_days) == [7.0, None]  # A: mql 01-03 → sql 01-10; C never moved on


def test_a_query_alone_in_its_group_is_not_fused(ws, monkeypatch):
    _, fused = fused_answers(ws, [("win_rate", {}), ("pipeline_value", {})],
                             monkeypatch)
    assert fused == 0  # different rows: nothing to share, nothing computed twice


def test_a_bad_query_in_metrics_fails_in_its_turn_and_leaves_nothing(ws):
    from funnelmetrics.errors import QueryError

    with pytest.raises(QueryError, match="stage"):
        ws.metrics([("stage_reached", {"stage": "mql"}), ("stage_reached", {"stage": "nope"}),
                    ("stage_reached", {"stage": "sql"})], **RANGE)
    assert temp_tables(ws) == [] and ws.batch_state is None
