"""`funnelmetrics mrr`, `leaderboard` and `kpis` driven in process (cli/revenue_cmds.py).

Expected values are worked out by hand beside each assert. Instants are UTC.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app

SQL = [
    # A: 100 from Jan 10 to Mar 1 00:00, then 150 from Mar 1. B: 200 from Jan 5 to Feb 1 00:00,
    # back with 300 from Mar 2.
    """INSERT INTO subscriptions (subscription_id, account_id, mrr, started_at, ended_at) VALUES
       ('S1', 'A', 100, '2026-01-10', '2026-03-01'), ('S2', 'A', 150, '2026-03-01', NULL),
       ('S3', 'B', 200, '2026-01-05', '2026-02-01'), ('S4', 'B', 300, '2026-03-02', NULL)""",
    "INSERT INTO reps (rep_id, team) VALUES ('r1', 'east'), ('r2', 'west'), ('r3', 'east')",
    """INSERT INTO opportunities (opportunity_id, created_at, status, amount, closed_at, rep_id)
       VALUES ('O1', '2026-01-01', 'won', 1000, '2026-01-11', 'r1'),
              ('O2', '2026-01-01', 'won', 500, '2026-01-14', 'r2'),
              ('O3', '2026-01-01', 'lost', 500, '2026-01-15', 'r2'),
              ('O4', '2026-01-05', 'won', 700, '2026-02-04', 'r2'),
              ('O5', '2026-01-10', 'won', 1000, '2026-01-20', 'r3')""",
    """INSERT INTO quotas VALUES ('r1', '2026-01-01', '2026-01-31', 2000),
       ('r2', '2026-01-01', '2026-01-31', 1000)""",
    "INSERT INTO spend (date, amount, category) VALUES ('2026-01-02', 300, 'marketing'), "
    "('2026-01-20', 900, 'marketing')",
    """INSERT INTO kpi_targets (metric, period_start, period_end, target, dimension, value) VALUES
       ('won_revenue', '2026-01-01', '2026-01-31', 3100, NULL, NULL),
       ('won_revenue', '2026-01-01', '2026-02-01', 2170, 'rep_id', 'r1'),
       ('win_rate', '2026-01-01', '2026-01-31', 0.6, 'rep_id', 'r2'),
       ('cac', '2026-01-01', '2026-03-31', 70, NULL, NULL),
       ('won_revenue', '2026-02-01', '2026-02-28', 10, NULL, NULL)""",
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "w.duckdb"
    ws = funnelmetrics.open(path)
    for sql in SQL:
        ws.duckdb.execute(sql)
    ws.close()
    return str(path)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# ---- mrr --------------------------------------------------------------------------------------
def test_mrr_json_movements_and_cohorts(db):
    code, out = run("mrr", "--db", db, "--format", "json")
    assert code == 0, out
    movements, cohorts = lines(out)
    assert movements["view"] == "mrr_movements" and movements["currency"] == "USD"
    rows = {r.pop("period_start"): r for r in movements["rows"]}
    # MRR at month ends: Jan A 100 + B 200 = 300; Feb A 100 (S1 ends Mar 1 00:00: still active
    # at the end of Feb), B 0; Mar A 150, B 300. Every month of 2026 Q1 is over (not partial).
    assert rows["2026-01-01"] == {"start": 0, "new": 300, "expansion": 0, "reactivation": 0,
                                  "contraction": 0, "churn": 0, "end": 300, "net_new": 300,
                                  "partial": False}
    assert rows["2026-02-01"] == {"start": 300, "new": 0, "expansion": 0, "reactivation": 0,
                                  "contraction": 0, "churn": -200, "end": 100, "net_new": -200,
                                  "partial": False}
    # Mar: A +50 expansion; B comes back (it had MRR at the end of January): reactivation.
    assert rows["2026-03-01"] == {"start": 100, "new": 0, "expansion": 50, "reactivation": 300,
                                  "contraction": 0, "churn": 0, "end": 450, "net_new": 350,
                                  "partial": False}
    assert list(movements["rows"][0])[-2:] == ["net_new", "partial"]  # the flag last
    assert cohorts["view"] == "mrr_cohorts"
    # January cohort (A, B): end Jan both (300); end Feb A (100); end Mar both (450).
    assert [(r["periods_since_start"], r["accounts"], r["mrr"]) for r in cohorts["rows"]] == [
        (0, 2, 300), (1, 1, 100), (2, 2, 450)]
    assert [r["mrr_retention"] for r in cohorts["rows"]] == [1, pytest.approx(1 / 3), 1.5]


def test_mrr_as_of_and_range(db):
    code, out = run("mrr", "--db", db, "--format", "json", "--view", "movements",
                    "--start", "2026-02-01", "--end", "2026-03-31", "--as-of", "2026-03-01")
    assert code == 0, out
    (movements,) = lines(out)
    # As of Mar 1 00:00: S2 (starts then) and S4 are not there yet, and S1 (ends then) is
    # still running. Feb: 300 → 100; Mar: A 100 → 100.
    assert [(r["start"], r["churn"], r["end"]) for r in movements["rows"]] == [
        (300, -200, 100), (100, 0, 100)]
    # Mar 1 00:00 is February's end: February is over, March has just begun
    assert [r["partial"] for r in movements["rows"]] == [False, True]


def test_mrr_csv_and_table(db):
    code, out = run("mrr", "--db", db, "--format", "csv", "--view", "movements")
    assert code == 0, out
    assert out.splitlines()[0] == ("period_start,start,new,expansion,reactivation,contraction,"
                                   "churn,end,net_new,partial")
    assert out.splitlines()[2] == "2026-02-01,300.0,0.0,0.0,0.0,0.0,-200.0,100.0,-200.0,false"
    code, out = run("mrr", "--db", db)
    assert code == 0 and "MRR movements" in out and "cohort retention" in out
    assert "period not over" not in out  # Q1 2026 is long over


def test_mrr_marks_the_partial_month(db):
    code, out = run("mrr", "--db", db, "--view", "movements", "--start", "2026-02-01",
                    "--end", "2026-03-31", "--as-of", "2026-03-15")
    assert code == 0, out
    assert "2026-03-01 *" in out and "2026-02-01 *" not in out  # March is not over on Mar 15
    assert "* period not over yet: its figures may still change" in out
    code, out = run("mrr", "--db", db, "--view", "movements", "--format", "csv",
                    "--start", "2026-02-01", "--end", "2026-03-31", "--as-of", "2026-03-15")
    assert [line.rsplit(",", 1)[1] for line in out.splitlines()] == ["partial", "false", "true"]


def test_mrr_grain_all_has_no_cohorts(db):
    code, out = run("mrr", "--db", db, "--format", "json", "--grain", "all",
                    "--start", "2026-01-01", "--end", "2026-03-31")
    assert code == 0, out
    (movements,) = lines(out)  # one period: no cohorts to follow, so only the movements
    # Over the whole range: A 0 → 150, B 0 → 300, both new.
    assert movements["rows"][0]["new"] == 450
    code, out = run("mrr", "--db", db, "--grain", "all", "--view", "cohorts")
    assert code == 1 and "calendar grain" in out and "Traceback" not in out


# ---- leaderboard ------------------------------------------------------------------------------
def test_leaderboard_json(db):
    code, out = run("leaderboard", "--db", db, "--format", "json", "--start", "2026-01-01",
                    "--end", "2026-02-28")
    assert code == 0, out
    (board,) = lines(out)
    rows = [(r["period_start"], r["rep_id"], r["won_amount"], r["win_rate"],
             r["mean_cycle_days"], r["quota_attainment"], r["rank"]) for r in board["rows"]]
    assert rows == [
        # Jan: r1 O1 1000 (10 days, 1000/2000); r3 O5 1000 (10 days, no quota) ties r1 for
        # rank 1; r2 O2 won, O3 lost: 500, 1/2, 13 days, 500/1000, rank 3.
        ("2026-01-01", "r1", 1000, 1, 10, 0.5, 1),
        ("2026-01-01", "r3", 1000, 1, 10, None, 1),
        ("2026-01-01", "r2", 500, 0.5, 13, 0.5, 3),
        # Feb: r2 O4 700 (Jan 5 → Feb 4 = 30 days); no Feb quota. r1, r3 did nothing: left out.
        ("2026-02-01", "r2", 700, 1, 30, None, 1),
    ]


def test_leaderboard_defaults_to_the_last_full_period_of_the_data(db):
    """The data's last event is S4's start on 2026-03-02 (before today's month): the board is
    seen as of 2026-03-03, whose last full month is February — r2's O4 (700, 30 days) alone."""
    code, out = run("leaderboard", "--db", db, "--format", "json")
    assert code == 0, out
    (board,) = lines(out)
    assert (board["start"], board["end"]) == ("2026-02-01", "2026-02-28")
    assert [(r["period_start"], r["rep_id"], r["won_amount"], r["rank"]) for r in board["rows"]] \
        == [("2026-02-01", "r2", 700, 1)]
    code, out = run("leaderboard", "--db", db)
    assert code == 0, out
    assert "month of 2026-02-01" in out and "the data ends on 2026-03-02" in out


def test_leaderboard_table_names_reps(tmp_path):
    """Where the reps table has a name, the table shows it instead of the id (JSON keeps ids);
    a rep without a name keeps its id."""
    path = tmp_path / "n.duckdb"
    ws = funnelmetrics.open(path)
    ws.duckdb.execute("INSERT INTO reps (rep_id, name) VALUES ('r1', 'Ana Lim'), ('r2', NULL)")
    ws.duckdb.execute("""INSERT INTO opportunities (opportunity_id, created_at, status, amount,
        closed_at, rep_id) VALUES ('O1', '2026-01-01', 'won', 1000, '2026-01-11', 'r1'),
        ('O2', '2026-01-01', 'won', 400, '2026-01-12', 'r2')""")
    ws.close()
    code, out = run("leaderboard", "--db", str(path), "--start", "2026-01-01",
                    "--end", "2026-01-31")
    assert code == 0, out
    assert "Ana Lim" in out and "r2" in out and "r1" not in out
    code, out = run("leaderboard", "--db", str(path), "--start", "2026-01-01",
                    "--end", "2026-01-31", "--format", "json")
    assert [r["rep_id"] for r in lines(out)[0]["rows"]] == ["r1", "r2"]


def test_leaderboard_flags_the_partial_month(db):
    code, out = run("leaderboard", "--db", db, "--format", "json", "--as-of", "2026-02-15",
                    "--start", "2026-01-01", "--end", "2026-02-28")
    assert code == 0, out
    (board,) = lines(out)
    # as of Feb 15 January is over and February is not; O4 (Feb 4) has closed already
    assert [(r["period_start"], r["rep_id"], r["partial"]) for r in board["rows"]] == [
        ("2026-01-01", "r1", False), ("2026-01-01", "r3", False), ("2026-01-01", "r2", False),
        ("2026-02-01", "r2", True)]
    assert list(board["rows"][0])[-2:] == ["rank", "partial"]  # the flag last
    code, out = run("leaderboard", "--db", db, "--as-of", "2026-02-15", "--start",
                    "2026-01-01", "--end", "2026-02-28")
    assert code == 0 and "2026-02-01 *" in out and "period not over yet" in out


def test_mrr_cohorts_flag_the_partial_month(db):
    code, out = run("mrr", "--db", db, "--format", "json", "--view", "cohorts",
                    "--as-of", "2026-03-15", "--start", "2026-01-01", "--end", "2026-03-31")
    assert code == 0, out
    (cohorts,) = lines(out)
    # the January cohort at its ends of January, February (over) and March (not over yet)
    assert [(r["periods_since_start"], r["partial"]) for r in cohorts["rows"]] == [
        (0, False), (1, False), (2, True)]


def test_leaderboard_for_one_team(db):
    code, out = run("leaderboard", "--db", db, "--format", "json", "--where", "team=west",
                    "--start", "2026-01-01", "--end", "2026-01-31")
    assert code == 0, out
    (board,) = lines(out)
    assert [(r["rep_id"], r["rank"]) for r in board["rows"]] == [("r2", 1)]


# ---- kpis -------------------------------------------------------------------------------------
def test_kpis_json_status_with_pro_rating_and_direction(db):
    code, out = run("kpis", "--db", db, "--as-of", "2026-01-16", "--format", "json")
    assert code == 0, out
    (kpis,) = lines(out)
    rows = {(r["metric"], r["dimension_value"]): r for r in kpis["rows"]}
    assert len(rows) == 4  # the February target is not current
    # As of Jan 16 00:00, 15 of January's 31 days are gone. Won so far: O1 1000, O2 500.
    total = rows[("won_revenue", None)]
    assert total["expected"] == pytest.approx(1500)  # 3100 × 15/31
    assert total["actual"] == 1500 and total["status"] == "on track"
    # r1: 2170 × 15/31 = 1050 expected; 1000 is 95% of it → at risk. (Its period_end Feb 1
    # 00:00 is the first instant after January: the same month.)
    r1 = rows[("won_revenue", "r1")]
    assert r1["expected"] == pytest.approx(1050) and r1["period_end"] == "2026-01-31"
    assert r1["pct_of_target"] == pytest.approx(1000 / 1050) and r1["status"] == "at risk"
    # r2's win rate is a ratio, not pro-rated: 1 won (O2) of 2 closed (O3 lost) = 0.5 against
    # 0.6 → more than 10% short → behind.
    r2 = rows[("win_rate", "r2")]
    assert (r2["expected"], r2["actual"], r2["status"]) == (0.6, 0.5, "behind")
    # cac, lower is better, for Q1 so far: 300 spent (the Jan 20 spend is after the as-of) over
    # 4 new customers — O1 and O2 (deals without account) and accounts A and B (first
    # subscriptions Jan 10, Jan 5) = 75 against 70: worse by 5 ≤ 7 → at risk (inverted: a
    # higher-is-better 75 would be on track).
    cac = rows[("cac", None)]
    assert (cac["actual"], cac["expected"], cac["status"]) == (75, 70, "at risk")


def test_kpis_table(db):
    code, out = run("kpis", "--db", db, "--as-of", "2026-01-16")
    assert code == 0, out
    assert "KPI targets" in out and "behind" in out and "at risk" in out


def test_missing_workspace_exits_1_saying_so(tmp_path: Path):
    code, out = run("mrr", "--db", str(tmp_path / "none.duckdb"))
    assert code == 1 and "no workspace here" in out
