"""What the generated SQL and a batch do, not only what they answer: a batch materialises a shared
table only for two or more uses, and only with what they read; a metric's own SQL reads each base
table once. Every figure here is also worked out by hand."""

from __future__ import annotations

import pytest
from journeys import journeys, values

# A: lead 01-01, mql 01-03, sql 01-10, won 02-20; B skips mql (sql 01-15 counts for it);
# C: lead 02-01, mql 02-05; D: lead 02-11, no event.
JOURNEYS = {
    "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-10"),
          ("won", "2026-02-20")],
    "B": [("lead", "2026-01-10"), ("sql", "2026-01-15")],
    "C": [("lead", "2026-02-01"), ("mql", "2026-02-05")],
    "D": [("lead", "2026-02-11")],
}
OPPS = [
    {"opportunity_id": "O1", "lead_id": "A", "created_at": "2026-01-20", "status": "won",
     "amount": 1000, "closed_at": "2026-02-20"},
    {"opportunity_id": "O2", "lead_id": "B", "created_at": "2026-01-20", "status": "lost",
     "amount": 500, "closed_at": "2026-02-25"},
]
RANGE = {"start": "2026-01-01", "end": "2026-02-28", "grain": "month"}
MQL_TO_SQL = ("stage_conversion_rate", {"from_stage": "mql", "to_stage": "sql", **RANGE})
DAYS_IN_SQL = ("time_in_stage", {"stage": "sql", **RANGE})


@pytest.fixture
def ws(tmp_path):
    w = journeys(tmp_path, JOURNEYS, opportunities=OPPS)
    yield w
    w.close()


def temp_tables(ws) -> dict[str, tuple[list[str], int]]:
    """Each temporary table: its columns and its row count."""
    names = [r[0] for r in ws.duckdb.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1").fetchall()]
    out = {}
    for name in names:
        cols = [r[0] for r in ws.duckdb.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "ORDER BY column_index", [name]).fetchall()]
        out[name] = (cols, ws.duckdb.execute(f'SELECT count(*) FROM temp."{name}"').fetchone()[0])
    return out


def run_planned(ws, queries):
    """The queries in one batch, announced first (as `metric a b c` does); the results and the
    temporary tables as they stood after the last query."""
    with ws.batch():
        ws.prepare(queries)
        results = [ws.metric(m, **q) for m, q in queries]
        return results, temp_tables(ws)


def test_a_shared_reach_table_holds_only_the_stages_read_and_no_lead_without_events(ws):
    (rate, days), tables = run_planned(ws, [MQL_TO_SQL, DAYS_IN_SQL])
    # mql→sql (cumulative): January's cohort A (mql 01-03, sql 01-10) and B (sql 01-15 counts
    # for mql) both converted; February's C never reached sql
    assert values(rate) == [1.0, 0.0]
    # sql → next stage: A 01-10 → won 02-20 (counts for opportunity) = 41 days; B never moved on
    assert values(days) == [41.0, None]
    # one table for both: the three stages they read, keyless, only the leads with an event
    # of mql or later (A, B, C) — no created_at, no reach:won, no join to the leads
    assert list(tables.values()) == [(["reach:mql", "reach:sql", "reach:opportunity"], 3)]


def test_a_table_one_query_reads_is_not_materialised(ws):
    queries = [("lead_conversion_rate", RANGE), ("win_rate", RANGE),
               ("sales_cycle_days", RANGE)]
    (conversion, win, cycle), tables = run_planned(ws, queries)
    assert values(conversion) == [0.5, 0.0]  # A won 50 days after 01-01; B, C, D did not
    assert values(win) == [None, 0.5]  # February: O1 won, O2 lost
    assert values(cycle) == [None, 31.0]  # O1: 01-20 → 02-20
    # no reach table (lead_conversion_rate alone reads reach times): only the deals' monthly
    # aggregate that win_rate and sales_cycle_days share
    assert [cols for cols, _ in tables.values()] == [["_pk", "_f0", "_f1", "_f2"]]


def test_the_first_stage_brings_every_lead_into_the_shared_table(ws):
    queries = [("lead_conversion_rate", RANGE),
               ("stage_conversion_rate", {"from_stage": "lead", "to_stage": "mql", **RANGE})]
    (to_won, to_mql), tables = run_planned(ws, queries)
    assert values(to_won) == [0.5, 0.0]
    assert values(to_mql) == [1.0, 0.5]  # January A, B reached mql; February C did, D not
    # every lead (A–D) with its created_at and the two stages read; and, both cohorts being
    # the leads by created_at, one aggregate holding both queries' counts (two months)
    assert sorted(tables.values()) == [(["_pk", "_f0", "_f1", "_f2"], 2),
                                       (["created_at", "reach:mql", "reach:won"], 4)]


def test_a_query_the_plan_did_not_foresee_computes_its_own(ws):
    with ws.batch():
        ws.prepare([MQL_TO_SQL, DAYS_IN_SQL])
        ws.metric(MQL_TO_SQL[0], **MQL_TO_SQL[1])
        # won is not in the shared table: this query reads the base tables itself
        won = ws.metric("stage_reached", stage="won", **RANGE)
        # mql is: this one reads the shared table
        mql = ws.metric("stage_reached", stage="mql", **RANGE)
        assert len(temp_tables(ws)) == 1
    assert values(won) == [0, 1]  # A won on 02-20
    assert values(mql) == [2, 1]  # A (01-03), B (01-15 via sql); C (02-05)


def test_an_unannounced_batch_shares_every_stage_as_before(ws):
    with ws.batch():
        mql = ws.metric("stage_reached", stage="mql", **RANGE)
        won = ws.metric("stage_reached", stage="won", **RANGE)
        tables = temp_tables(ws)
    assert values(mql) == [2, 1] and values(won) == [0, 1]
    assert list(tables.values()) == [(["created_at", "reach:mql", "reach:sql",
                                       "reach:opportunity", "reach:won"], 4)]


@pytest.mark.parametrize(("metric", "query", "reads"), [
    (*MQL_TO_SQL, {"stage_events": 1, "leads": 0}),
    (*DAYS_IN_SQL, {"stage_events": 1, "leads": 0}),
    ("lead_conversion_rate", RANGE, {"stage_events": 1, "leads": 1}),
    ("win_rate", RANGE, {"opportunities": 1, "stage_events": 0}),
])
def test_a_metric_reads_each_base_table_once(ws, metric, query, reads):
    sql = ws.explain(metric, **query)
    assert {table: sql.count(f'FROM "{table}"') + sql.count(f'JOIN "{table}"')
            for table in reads} == reads
