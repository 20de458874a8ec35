"""`funnelmetrics attribution` (SPEC §5): JSON lines, CSV, the side-by-side table, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_attribution_journeys import journeys_for, won
from typer.testing import CliRunner

from funnelmetrics.attribution import MODELS
from funnelmetrics.cli import app

LEADS = {
    "A": {"created": "2026-01-01", "touches": ["2026-01-02 ads c1", "2026-01-03 email c2"],
          **won("2026-02-01", 1000)},
    "B": {"created": "2026-01-01", "touches": ["2026-01-05 ads c1"], **won("2026-02-03", 500)},
    "C": {"created": "2026-01-01", **won("2026-02-05", 100)},
    "D": {"created": "2026-01-01", "touches": ["2026-01-06 social"]},
}
SPEND = [("2026-01-15", 300.0, "ads", "c1"), ("2026-01-20", 2000.0, "email", "c2"),
         ("2026-01-21", 0.0, "social", None)]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    journeys_for(tmp_path, LEADS, SPEND).close()
    return tmp_path / "w.duckdb"


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["attribution", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_one_line_per_model(db: Path) -> None:
    lines = run("--model", "all", "--db", str(db), "--format", "json").splitlines()
    assert len(lines) == len(MODELS)
    objs = [json.loads(line) for line in lines]
    assert [o["model"] for o in objs] == list(MODELS)
    for obj in objs:
        assert list(obj)[:3] == ["model", "conversion", "rows"]
        assert obj["conversion"] == "won"
        for row in obj["rows"]:
            assert list(row)[:5] == ["channel", "credited_conversions", "credited_revenue",
                                     "spend", "roi"]
        total = sum(r["credited_conversions"] for r in obj["rows"])
        assert total == pytest.approx(3.0)
        assert sum(r["credited_revenue"] for r in obj["rows"]) == pytest.approx(1600.0)


def test_json_last_touch_values(db: Path) -> None:
    """Last touch: A → email (1000), B → ads (500), C → (no touch) (100).
    ads: ROI (500 − 300)/300; email: (1000 − 2000)/2000 = −0.5; social spent 0 → ROI null."""
    obj = json.loads(run("--model", "last_touch", "--db", str(db), "--format", "json"))
    rows = {r["channel"]: r for r in obj["rows"]}
    assert rows["ads"]["credited_revenue"] == 500.0
    assert rows["ads"]["roi"] == pytest.approx(2 / 3)
    assert rows["email"]["roi"] == -0.5
    assert rows["social"]["roi"] is None and rows["social"]["spend"] == 0.0
    assert rows["(no touch)"] == {"channel": "(no touch)", "credited_conversions": 1.0,
                                  "credited_revenue": 100.0, "spend": 0.0, "roi": None,
                                  "cost_per_conversion": None}


def test_by_campaign_key(db: Path) -> None:
    obj = json.loads(run("--model", "linear", "--by", "campaign_id", "--db", str(db),
                         "--format", "json"))
    rows = {r["campaign_id"]: r for r in obj["rows"]}
    assert rows["c1"]["credited_revenue"] == 1000.0  # 500 of A + all of B
    assert rows["c1"]["spend"] == 300.0


def test_conversion_and_options(db: Path) -> None:
    obj = json.loads(run("--model", "time_decay", "--half-life-days", "1", "--conversion",
                         "won", "--lookback-days", "60", "--start", "2026-02-01", "--end",
                         "2026-02-03", "--as-of", "2026-03-01", "--db", str(db),
                         "--format", "json"))
    assert sum(r["credited_conversions"] for r in obj["rows"]) == pytest.approx(2.0)


def test_table_side_by_side(db: Path) -> None:
    out = run("--db", str(db))
    assert "side by side" in out
    for name in ("first", "U-shape", "W-shape", "markov", "shapley", "spend", "(no"):
        assert name in out
    single = run("--model", "markov", "--db", str(db))
    assert "roi" in single and "(no touch)" in single


def test_csv(db: Path) -> None:
    lines = run("--model", "linear,markov", "--db", str(db), "--format", "csv").splitlines()
    assert lines[0].startswith("model,conversion,channel,credited_conversions")
    assert sum(1 for line in lines if line.startswith("markov,")) >= 3


@pytest.mark.parametrize(("args", "message"), [
    (["--model", "magic"], "unknown attribution model"),
    (["--by", "rep"], "--by must be"),
    (["--conversion", "bought"], "unknown conversion stage"),
    (["--start", "yesterday"], "not a date"),
])
def test_errors_exit_1_with_the_reason_and_no_traceback(db: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["attribution", *args, "--db", str(db)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
