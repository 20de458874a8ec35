"""End to end on each engine, through the CLI and its `--db` URL: `init`, `ingest` of small
CSVs, then `metric`, `funnel` and `mrr` — figures worked out by hand, and equal to DuckDB's.

PostgreSQL runs in process (the session's server, a schema of its own); Spark runs `init` and
`ingest` in one new process and the reading commands in another (`pyspark:///WAREHOUSE_DIR`),
so the tables must be found again in the warehouse, as by a user's next command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funnelmetrics.cli import app

FILES = {
    "leads.csv": "lead_id,created_at,source\nL1,2026-01-05,web\nL2,2026-01-10,ads\n"
                 "L3,2026-02-03,web\nL4,2026-02-20,events\nL5,not a date,web\n",
    "stage_events.csv": "lead_id,stage,occurred_at\nL1,mql,2026-01-07\nL1,sql,2026-01-20\n"
                        "L2,mql,2026-01-12\nL3,mql,2026-02-05\nL9,mql,2026-02-06\n",
    "opportunities.csv": "opportunity_id,lead_id,created_at,status,amount,closed_at\n"
                         "O1,L1,2026-01-21,won,1000,2026-02-10\n"
                         "O2,L2,2026-01-25,lost,500,2026-02-15\n"
                         "O3,L3,2026-02-10,open,700,\n",
    "subscriptions.csv": "subscription_id,account_id,mrr,started_at,ended_at\n"
                         "S1,A,100,2026-01-10,2026-03-01\nS2,A,150,2026-03-01,\n"
                         "S3,B,200,2026-01-05,2026-02-01\n",
}
RANGE = ["--start", "2026-01-01", "--end", "2026-03-31"]
COMMANDS = {
    "metric": ["metric", "leads_created", "won_revenue", "win_rate", "--grain", "month",
               "--by", "source", *RANGE, "--format", "json"],
    "funnel": ["funnel", *RANGE, "--format", "json"],
    "mrr": ["mrr", *RANGE, "--format", "json"],
}


def data(tmp_path: Path) -> Path:
    folder = tmp_path / "crm"
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def in_process(commands: list[list[str]]) -> list[str]:
    """Each command's stdout, run here with Typer's CliRunner (exit 0 expected)."""
    outputs = []
    for args in commands:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outputs.append(result.stdout)
    return outputs


DRIVER = """import json, sys
from typer.testing import CliRunner
from funnelmetrics.cli import app
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    if result.exit_code:
        sys.exit(result.output)
    print(json.dumps(result.stdout))
"""


def in_a_process(commands: list[list[str]], cwd: Path) -> list[str]:
    """The commands' stdout, run one after another in a new Python process."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", DRIVER, json.dumps(commands)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=1800)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith('"')]


def session(run, db: str, folder: Path, *, processes: int = 1) -> dict[str, object]:
    """init, ingest, then each command: the JSON answers (the ingest's table counts). With two
    processes, the reading commands run in a second one (the tables are found again)."""
    loading = [["init", "--db", db], ["ingest", str(folder), "--db", db, "--format", "json"]]
    reading = [[*args, "--db", db] for args in COMMANDS.values()]
    outputs = run(loading + reading) if processes == 1 else run(loading) + run(reading)
    out: dict[str, object] = {"ingest": json.loads(outputs[1])["tables"]}
    for name, text in zip(COMMANDS, outputs[2:], strict=True):
        out[name] = [json.loads(line) for line in text.splitlines() if line.strip()]
    return out


def rows(answer: list[dict], metric: str) -> dict[tuple[str, str], float | None]:
    [found] = [a for a in answer if a.get("metric") == metric]
    return {(r["period_start"], r["source"]): r["value"] for r in found["rows"]}


def check_by_hand(out: dict) -> None:
    # L5's date is not a date; L9 names no lead
    assert out["ingest"]["leads"] == {"rows": 5, "accepted": 4, "rejected": 1}
    assert out["ingest"]["stage_events"] == {"rows": 5, "accepted": 4, "rejected": 1}
    leads = rows(out["metric"], "leads_created")
    assert (leads[("2026-01-01", "web")], leads[("2026-01-01", "ads")]) == (1, 1)  # L1, L2
    assert (leads[("2026-02-01", "web")], leads[("2026-02-01", "events")]) == (1, 1)  # L3, L4
    won = rows(out["metric"], "won_revenue")
    assert won[("2026-02-01", "web")] == 1000  # O1 (L1 is web), won Feb 10
    win = rows(out["metric"], "win_rate")
    assert (win[("2026-02-01", "web")], win[("2026-02-01", "ads")]) == (1.0, 0.0)  # O1 / O2
    [funnel] = out["funnel"]
    reached = {r["stage"]: r["reached"] for r in funnel["rows"]}
    assert (reached["lead"], reached["mql"], reached["sql"]) == (4, 3, 1)  # L1-4; L1-3; L1
    movements = next(a for a in out["mrr"] if a["view"] == "mrr_movements")
    # Jan: A 100 + B 200; Feb: B ended Feb 1 (churn 200); Mar: A 100 -> 150 (expansion 50)
    assert [(r["end"], r["churn"], r["expansion"]) for r in movements["rows"]] == [
        (300, 0, 0), (100, -200, 0), (150, 0, 50)]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("duckdb")
    out = session(in_process, str(tmp / "w.duckdb"), data(tmp))
    check_by_hand(out)
    return out


@pytest.mark.postgres
def test_postgres_through_its_url_gives_duckdbs_figures(tmp_path, postgres_server, reference):
    out = session(in_process, f"{postgres_server}?schema=e2e_cli", data(tmp_path))
    check_by_hand(out)
    assert out == reference


@pytest.mark.spark
@pytest.mark.slow
def test_pyspark_through_its_url_gives_duckdbs_figures(tmp_path, reference):
    db = "pyspark:///warehouse?spark.master=local[2]&spark.sql.shuffle.partitions=2"
    out = session(lambda commands: in_a_process(commands, tmp_path), db, data(tmp_path),
                  processes=2)
    assert (tmp_path / "warehouse" / "leads").is_dir()  # a managed table of the warehouse
    assert list((tmp_path / "warehouse" / "leads").glob("*.parquet"))
    check_by_hand(out)
    assert out == reference


@pytest.mark.postgres
def test_serve_answers_from_a_postgres_workspace(tmp_path, postgres_server, monkeypatch):
    """The REST API over a `postgres://` workspace gives the CLI's JSON."""
    import asyncio

    import httpx

    from funnelmetrics.web.app import create_app

    monkeypatch.chdir(tmp_path)  # serve's settings come from the current folder
    db = f"{postgres_server}?schema=e2e_serve"
    _, funnel = in_process([["ingest", str(data(tmp_path)), "--db", db],
                            [*COMMANDS["funnel"], "--db", db]])
    cli = json.loads(funnel)
    app_ = create_app(db, auth=False)

    async def get(url: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_),
                                     base_url="http://127.0.0.1") as client:
            return await client.get(url)

    answer = asyncio.run(get("/api/v1/funnel?start=2026-01-01&end=2026-03-31"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == cli
    assert [r["reached"] for r in cli["rows"]][:3] == [4, 3, 1]
    assert not (tmp_path / "postgres:").exists()


USERS = [["user", "add", "ana", "--role", "rep", "--rep-id", "r1"],
         ["user", "add", "boss", "--role", "manager", "--team", "east"],
         ["user", "remove", "boss"],
         ["user", "list"]]


def check_users(outputs: list[str]) -> str:
    """ana stays (a rep of r1), boss is gone; returns ana's token."""
    token = outputs[0].strip().splitlines()[-1]
    assert token.startswith("fm_")
    listed = [line.split("\t") for line in outputs[-1].splitlines() if line.strip()]
    assert listed == [["ana", "rep", "r1"]]
    return token


@pytest.mark.postgres
def test_users_live_in_a_postgres_workspace(tmp_path, postgres_server):
    """`user add/list/remove` on PostgreSQL, and the server takes the token it printed."""
    import asyncio

    import httpx

    from funnelmetrics.web.app import create_app

    db = f"{postgres_server}?schema=e2e_users"
    outputs = in_process([["init", "--db", db], *[[*c, "--db", db] for c in USERS]])
    token = check_users(outputs[1:])

    async def me(bearer: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(db)),
                                     base_url="http://127.0.0.1") as client:
            return await client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})

    answer = asyncio.run(me(token))
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "ana" and answer.json()["role"] == "rep"
    assert asyncio.run(me(token[:-1] + "x")).status_code == 401


@pytest.mark.spark
@pytest.mark.slow
def test_users_live_in_a_spark_warehouse(tmp_path):
    db = "pyspark:///warehouse?spark.master=local[1]&spark.sql.shuffle.partitions=1"
    outputs = in_a_process([["init", "--db", db], *[[*c, "--db", db] for c in USERS]],
                           tmp_path)
    check_users(outputs[1:])
    assert (tmp_path / "warehouse" / "_users").is_dir()
