"""`funnelmetrics forecast` and `ltv` driven in process (cli/forecast_cmds.py) on the tiny
workspaces of the library tests, whose figures are worked out there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from journeys import _insert, journeys
from test_forecast_ltv import DEALS, SUBSCRIPTIONS
from test_forecast_pipeline import LOST, OPEN, WON
from typer.testing import CliRunner

from funnelmetrics.cli import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    deals = [{"account_id": a, "created_at": "2024-12-01", "closed_at": c, "amount": amt,
              "status": s} for a, c, amt, s in DEALS]
    ws = journeys(tmp_path, opportunities=WON + LOST + OPEN + deals)
    keys = ("subscription_id", "account_id", "mrr", "started_at", "ended_at")
    _insert(ws, "subscriptions", [dict(zip(keys, r, strict=True)) for r in SUBSCRIPTIONS])
    ws.close()
    return str(tmp_path / "journeys.duckdb")


def test_bookings_json_is_the_issues_shape(db: str) -> None:
    code, out = run("forecast", "bookings", "--db", db, "--as-of", "2025-07-01", "--horizon",
                    "2", "--by", "rep_id", "--simulations", "2000", "--format", "json")
    assert code == 0, out
    obj = json.loads(out)
    assert list(obj) == ["forecast", "as_of", "grain", "rows"]
    assert (obj["forecast"], obj["as_of"], obj["grain"]) == ("bookings", "2025-07-01", "month")
    july = obj["rows"][0]
    assert july["period_start"] == "2025-07-01"
    assert set(july["open_pipeline"]) == {"expected", "p10", "p50", "p90", "deals"}
    assert set(july["total"]) == {"expected", "p10", "p50", "p90"}


def test_bookings_table_and_csv(db: str) -> None:
    code, out = run("forecast", "bookings", "--db", db, "--as-of", "2025-07-01", "--deals",
                    "--simulations", "200")
    assert code == 0, out
    assert "Bookings forecast as of 2025-07-01" in out and "Open deals" in out
    code, out = run("forecast", "bookings", "--db", db, "--as-of", "2025-07-01",
                    "--simulations", "200", "--format", "csv")
    assert code == 0 and out.splitlines()[0].startswith("period_start,open_pipeline_expected")


def test_backtest_prints_scores_against_both_baselines(db: str) -> None:
    code, out = run("forecast", "backtest", "--db", db, "--as-of", "2025-07-01", "--periods",
                    "2", "--simulations", "200")
    assert code == 0, out
    assert "last period's bookings" in out and "open pipeline × win rate" in out
    code, out = run("forecast", "backtest", "--db", db, "--as-of", "2025-07-01", "--periods",
                    "2", "--simulations", "200", "--format", "json")
    obj = json.loads(out)
    assert [r["period_start"] for r in obj["rows"]] == ["2025-05-01", "2025-06-01"]
    assert set(obj["overall"]) == {"periods", "model", "last_period", "pipeline_x_win_rate"}


def test_metric_forecast_json(db: str) -> None:
    code, out = run("forecast", "won_revenue", "--db", db, "--as-of", "2025-07-01",
                    "--horizon", "2", "--format", "json")
    assert code == 0, out
    obj = json.loads(out)
    assert obj["metric"] == "won_revenue" and len(obj["rows"]) == 2
    assert set(obj["rows"][0]) == {"period_start", "value", "lower_80", "upper_80", "lower_95",
                                   "upper_95"}


@pytest.mark.parametrize(("args", "message"), [
    (("forecast", "win_rate"), "ratio metric"),
    (("forecast", "nope"), "nope"),
    (("forecast", "bookings", "--grain", "week"), "month or quarter"),
    (("forecast", "bookings", "--as-of", "soon"), "--as-of"),
    (("forecast", "bookings", "--simulations", "0"), "--simulations"),
    (("ltv", "--model", "sbg", "--unit", "week"), "--unit"),
    (("ltv", "--model", "bgnbd", "--calibration-end", "2025-01-02"), "repeat purchase"),
    (("ltv", "--discount-rate", "2"), "--discount-rate"),
])
def test_mistakes_are_one_line(db: str, args: tuple[str, ...], message: str) -> None:
    code, out = run(*args, "--db", db)
    assert code == 1
    assert message in out and "Traceback" not in out
    assert len(out.strip().splitlines()) <= 2  # the message, wrapped at most once


def test_ltv_models(db: str) -> None:
    code, out = run("ltv", "--model", "sbg", "--unit", "quarter", "--as-of", "2025-10-01",
                    "--db", db, "--format", "json")
    assert code == 0, out
    first = json.loads(out.splitlines()[0])
    assert first["model"] == "sbg" and first["survivors"] == [5, 4, 2, 2]
    assert {"alpha", "beta", "log_likelihood", "survival", "derl", "ltv"} <= set(first)
    code, out = run("ltv", "--model", "bgnbd", "--calibration-end", "2025-01-29", "--by",
                    "account_id", "--db", db, "--format", "json")
    assert code == 0, out
    obj = json.loads(out)
    assert {"r", "alpha", "a", "b", "log_likelihood", "p", "q", "v"} <= set(obj)
    assert [r["account_id"] for r in obj["rows"]] == ["K", "L", "M"]
    code, out = run("ltv", "--model", "simple", "--db", db, "--format", "json")
    assert code == 0, out
    assert json.loads(out)["model"] == "simple"
