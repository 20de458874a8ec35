"""The CLI in an 80-column terminal (issue 18): every id and every number of a result appears
whole in the table — wrapped, moved to a second table or dropped with a note, never cut — and
text from the data never reaches the terminal with its control characters.

Each command runs in a subprocess with COLUMNS=80 (Rich reads the width at start-up), once as a
table and once as JSON; the JSON's ids and numbers, rounded as the table rounds them
(`render.display` with the command's units), must all be found in the table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from funnelmetrics.cli.render import display

WIDTH = 80
# One instant for the table and the JSON of a command: data up to today may still be arriving
AT = ["--as-of", __import__("datetime").date.today().isoformat()]
RUN = "import sys; from funnelmetrics.cli import main; sys.argv[0] = 'funnelmetrics'; main()"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from funnelmetrics.demo import build_demo

    path = tmp_path_factory.mktemp("narrow") / "demo.duckdb"
    ws, _ = build_demo(path, leads=2000, seed=3, months=8)
    ws.close()
    return str(path)


def cli(*args: str, columns: int = WIDTH) -> str:
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "dumb", "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-c", RUN, *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def assert_fits(table: str) -> None:
    assert "…" not in table  # Rich's mark of a cut cell
    assert all(len(line) <= WIDTH for line in table.splitlines()), table


def assert_whole(table: str, texts: list[str]) -> None:
    missing = [t for t in texts if t not in table]
    assert not missing, f"not whole in the table: {missing[:10]}\n{table}"


def test_metrics_full_ids(db: str):
    table = cli("metrics", "--db", db)
    assert_fits(table)
    ids = [row["id"] for row in json_lines(cli("metrics", "--format", "json"))]
    assert len(ids) > 30
    assert_whole(table, ids)


def test_mrr_whole_amounts(db: str):
    from funnelmetrics.cli.revenue_cmds import MOVEMENT_UNITS

    table = cli("mrr", "--db", db, "--view", "movements", *AT)
    assert_fits(table)
    (movements,) = json_lines(cli("mrr", "--db", db, "--view", "movements", "--format", "json", *AT))
    assert any(abs(r["end"]) >= 1000 for r in movements["rows"])  # thousands: rounded whole
    expected = [r["period_start"] for r in movements["rows"]]
    expected += [display(r[c], u) for r in movements["rows"] for c, u in MOVEMENT_UNITS.items()]
    assert_whole(table, expected)


def test_attribution_all_models_whole(db: str):
    from funnelmetrics.cli.attribution_cmds import SHORT

    table = cli("attribution", "--model", "all", "--db", db, *AT)
    assert_fits(table)
    models = json_lines(cli("attribution", "--model", "all", "--db", db, "--format", "json", *AT))
    assert len(models) == 8
    expected = [SHORT.get(m["model"], m["model"]) for m in models]
    for m in models:
        for r in m["rows"]:
            expected += [r["channel"], display(round(r["credited_revenue"]), "number"),
                         display(round(r["spend"]), "number")]
    assert_whole(table, expected)


def test_kpis_whole(db: str):
    # a fixed instant: "expected so far" moves with the clock between two runs otherwise
    import datetime as dt

    at = ["--as-of", dt.date.today().isoformat()]
    table = cli("kpis", "--db", db, *at)
    assert_fits(table)
    (kpis,) = json_lines(cli("kpis", "--db", db, "--format", "json", *at))
    expected = [r["metric"] for r in kpis["rows"]]
    expected += [f"{r['dimension']}={r['dimension_value']}" for r in kpis["rows"]
                 if r["dimension"]]
    expected += [display(r["pct_of_target"], "ratio") for r in kpis["rows"]]
    expected += [display(r["actual"], r["unit"]) for r in kpis["rows"]]
    assert_whole(table, expected)


def test_leaderboard_whole_and_named(db: str):
    from funnelmetrics.cli.revenue_cmds import LEADERBOARD_UNITS

    table = cli("leaderboard", "--db", db, *AT)
    assert_fits(table)
    (board,) = json_lines(cli("leaderboard", "--db", db, "--format", "json", *AT))
    assert board["rows"] and len({r["period_start"] for r in board["rows"]}) == 1
    expected = [display(r[c], u) for r in board["rows"] for c, u in LEADERBOARD_UNITS.items()]
    assert_whole(table, expected)
    assert not any(r["rep_id"] in table.split() for r in board["rows"])  # names, not ids


def test_funnel_and_summary_whole(db: str):
    table = cli("funnel", "--db", db, *AT)
    assert_fits(table)
    (funnel,) = json_lines(cli("funnel", "--db", db, "--format", "json", *AT))
    units = {"reached": "count", "converted_to_next": "count", "conversion_to_next": "ratio",
             "drop_off": "ratio", "median_days_in_stage": "days"}
    assert_whole(table, [r["stage"] for r in funnel["rows"]]
                 + [display(r[c], u) for r in funnel["rows"] for c, u in units.items()])
    table = cli("summary", "--db", db, *AT)
    assert_fits(table)
    month = json_lines(cli("summary", "--db", db, "--format", "json", *AT))[0]
    assert_whole(table, [display(r["value"], r["unit"]) for r in month["rows"]])


def test_metric_by_a_dimension_with_control_characters(db: str, tmp_path: Path):
    """A source typed with an escape sequence and a line break is shown escaped."""
    import shutil

    import funnelmetrics

    copy = tmp_path / "dirty.duckdb"
    shutil.copy(db, copy)
    ws = funnelmetrics.open(copy)
    ws.duckdb.execute("UPDATE leads SET source = 'web\x1b[31m\nred' WHERE source = 'email'")
    ws.close()
    table = cli("metric", "leads_created", "--by", "source", "--grain", "all",
                "--db", str(copy))
    assert "\x1b" not in table
    assert "web\\x1b[31m\\x0ared" in table
