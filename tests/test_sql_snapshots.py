"""Snapshots of the SQL a few metric queries compile to (STYLE.md: print the SQL; keep it from
drifting silently). A failure shows the difference; when the change is intended, refresh with

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_sql_snapshots.py
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from journeys import journeys

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"

AS_OF = "2026-06-30"  # fixes the "now" of `partial` and `immature`
# One query per metric kind (catalog.model.Kind), so no kind's SQL drifts unseen.
CASES = {
    "leads_created": dict(grain="month", start="2026-01-01", end="2026-03-31", as_of=AS_OF),
    "won_revenue": dict(grain="month", start="2026-01-01", end="2026-03-31", as_of=AS_OF),
    "win_rate": dict(grain="month", by="rep.team", start="2026-01-01", end="2026-03-31"),
    "stage_conversion_rate": dict(from_stage="mql", to_stage="sql", by="source",
                                  start="2026-01-01", end="2026-03-31", as_of=AS_OF),
    "pipeline_value": dict(grain="quarter", start="2026-01-01", end="2026-12-31"),
    "lead_velocity_rate": dict(grain="month", start="2026-01-01", end="2026-03-31", as_of=AS_OF),
    "time_in_stage": dict(stage="mql", stat="median", start="2026-01-01", end="2026-03-31",
                          as_of=AS_OF),
    "enps": dict(grain="quarter", start="2026-01-01", end="2026-06-30", as_of=AS_OF),
}


def normalise(sql: str) -> str:
    """Memtables get a random name per process; trailing spaces are noise."""
    sql = re.sub(r"ibis_pandas_memtable_[a-z0-9]+", "ibis_pandas_memtable_<id>", sql)
    return "\n".join(line.rstrip() for line in sql.strip().splitlines()) + "\n"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    workspace = journeys(tmp_path_factory.mktemp("snapshots"))  # SQL needs the schema only
    yield workspace
    workspace.close()


def test_every_metric_kind_has_a_snapshot():
    from funnelmetrics import catalog

    kinds = {catalog.get(metric).kind for metric in CASES}
    assert kinds == set(catalog.Kind), f"no SQL snapshot for {set(catalog.Kind) - kinds}"


@pytest.mark.parametrize("metric", list(CASES))
def test_sql_matches_snapshot(ws, metric):
    query = CASES[metric]
    query = query if "as_of" in query else {**query, "as_of": AS_OF}
    sql = normalise(ws.explain(metric, **query))
    path = SNAPSHOTS / f"{metric}.sql"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    refresh = f"UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/{Path(__file__).name}"
    if not path.exists():
        pytest.fail(f"no snapshot {path}; create it with {refresh}")
    expected = path.read_text(encoding="utf-8")
    if sql != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), sql.splitlines(True),
                                            str(path), "generated"))
        pytest.fail(f"the SQL of {metric} drifted from {path}; if intended, refresh with "
                    f"{refresh}\n{diff}")


def test_sql_is_the_same_in_every_process(tmp_path):
    """The SQL text does not depend on Python's per-process hash seed (two joined dimensions)."""
    journeys(tmp_path).close()
    script = (
        "import sys, funnelmetrics\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from test_sql_snapshots import normalise\n"
        "ws = funnelmetrics.open(sys.argv[1], read_only=True)\n"
        "print(normalise(ws.explain('win_rate', by=['rep.team', 'source'],"
        " start='2026-01-01', end='2026-03-31', as_of='2026-06-30')))\n"
    )
    outputs = set()
    for seed in ("1", "2"):  # two seeds that order a set of two joins differently
        done = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "journeys.duckdb"),
             str(Path(__file__).parent)],
            env={**os.environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True,
            check=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1, "explain() gives different SQL under different PYTHONHASHSEED"
