"""Every command that reads a workspace gives on PostgreSQL (through its `postgres://` URL) the
answer it gives on DuckDB: one demo company (`demo --db URL`, 1,500 leads over 18 months) loaded
into each, then the reading commands in JSON — summary, kpis, leaderboard, funnel, metric, mrr,
attribution (all models), insights, explain-change, pipeline-change, benchmarks,
forecast (bookings, a metric), ltv (three models) — and the HTML review. Numbers
are compared to 1e-9 (PostgreSQL adds floats in another order than DuckDB: the last digit of a
mean may differ); everything else to the character.

On Spark, whose queries cost about a second each (insights alone asks a few hundred), metric,
funnel and mrr run in `test_engines_cli.py` and the catalogue in the parity suite; here summary,
insights, forecast, the review and serve's API run on a smaller demo company (the last test).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from funnelmetrics.cli import app

LEADS, MONTHS = 1500, 18


def commands(period: str, day_from: str, day_to: str) -> dict[str, list[str]]:
    json_out = ["--format", "json"]
    return {
        "summary": ["summary", *json_out],
        "kpis": ["kpis", "--as-of", day_to, *json_out],  # "expected" moves with the clock
        "leaderboard": ["leaderboard", *json_out],
        "funnel": ["funnel", *json_out],
        "metric": ["metric", "leads_created", "win_rate", "won_revenue", "--by", "source",
                   *json_out],
        "metric marketing": ["metric", "cac", "cost_per_lead", "marketing_roi", "--by", "channel",
                             *json_out],
        "metric revenue": ["metric", "mrr", "net_revenue_retention", "quick_ratio", "arpa",
                           "pipeline_value", "sales_velocity", *json_out],
        "mrr": ["mrr", *json_out],
        "attribution": ["attribution", "--model", "all", *json_out],
        "insights": ["insights", *json_out],
        "explain-change": ["explain-change", "bookings", "--by", "source", *json_out],
        "pipeline-change": ["pipeline-change", "--from", day_from, "--to", day_to, *json_out],
        "benchmarks": ["benchmarks", *json_out],
        # (as of a day: the open period's expected new pipeline moves with the clock)
        "forecast": ["forecast", "bookings", "--simulations", "400", "--as-of", day_to,
                     *json_out],
        "forecast metric": ["forecast", "leads_created", "--as-of", day_to, *json_out],
        "ltv sbg": ["ltv", "--model", "sbg", *json_out],
        "ltv bgnbd": ["ltv", "--model", "bgnbd", *json_out],
        "ltv simple": ["ltv", "--model", "simple", *json_out],
        "report": ["report", "--period", period, "--format", "html", "--output", "{out}"],
    }


def run(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, f"{args}: {result.output[-2000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def period() -> dict[str, str]:
    """The demo's last full month, and two days inside its last months."""
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return {"period": last.strftime("%Y-%m"),
            "from": (last.replace(day=1) - dt.timedelta(days=60)).isoformat(),
            "to": last.isoformat()}


def answers(db: str, folder: Path, monkeypatch: pytest.MonkeyPatch,
            period: dict[str, str]) -> dict[str, str]:
    folder.mkdir()
    out = {"demo": run(["demo", "--db", db, "--leads", str(LEADS), "--months", str(MONTHS),
                        "--format", "json"], folder, monkeypatch)}
    for name, args in commands(period["period"], period["from"], period["to"]).items():
        args = [a.replace("{out}", str(folder / "review.html")) for a in args]
        out[name] = run([*args, "--db", db], folder, monkeypatch)
        if name == "report":
            out[name] = (folder / "review.html").read_text(encoding="utf-8")
    return out


NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def same(a: Any, b: Any, where: str) -> None:
    """Equal JSON values, numbers to 1e-9 (relative)."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), where
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys differ"
        for k in a:
            same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def parsed(text: str) -> list[Any]:
    """A command's JSON output (some print one JSON document per line)."""
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.mark.postgres
def test_every_command_on_postgres_gives_duckdbs_answer(postgres_server, tmp_path, monkeypatch,
                                                        period):
    reference = answers(str(tmp_path / "duck" / "funnel.duckdb"), tmp_path / "duck",
                        monkeypatch, period)
    found = answers(f"{postgres_server}?schema=commands", tmp_path / "pg", monkeypatch, period)
    assert reference.keys() == found.keys()
    for name in reference:
        if name == "report":  # HTML: its numbers are formatted for people, compared as text
            assert NUMBER.sub("n", found[name]) == NUMBER.sub("n", reference[name])
            assert len(found[name]) > 10_000
            continue
        want, got = parsed(reference[name]), parsed(found[name])
        assert want, name
        same(got, want, name)
    assert not (tmp_path / "pg" / "postgres:").exists()  # the URL never became a file


# ---- Spark ------------------------------------------------------------------------------------
# The commands no other Spark test runs, on a small demo company (a second a query there:
# `insights` asks a few hundred, the review more); the demo is built through the URL, the
# commands run in a new process, as by a user.
SPARK_LEADS, SPARK_MONTHS = 150, 4
SPARK_COMMANDS = ("summary", "insights", "forecast", "forecast metric", "report")
DRIVER = """import json, sys
from typer.testing import CliRunner
from funnelmetrics.cli import app
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    if result.exit_code:
        sys.exit(f"{args}: {result.output[-2000:]}")
    print(json.dumps(result.stdout))
# serve: the REST API over the same workspace (its settings from the current folder)
import asyncio, httpx
from funnelmetrics.web.app import create_app
api = create_app(sys.argv[2], auth=False, warm=False)
async def get(url):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api),
                                 base_url="http://127.0.0.1") as client:
        answer = await client.get(url)
        if answer.status_code != 200:
            sys.exit(f"{url}: {answer.status_code} {answer.text[:2000]}")
        return answer.text
for url in json.loads(sys.argv[3]):
    print(json.dumps(asyncio.run(get(url))))
"""
API = ("/api/v1/funnel?start={from}&end={to}",
       "/api/v1/metric/win_rate?grain=month&by=source&start={from}&end={to}")


def spark_commands(db: str, folder: Path, period: dict[str, str]) -> list[list[str]]:
    chosen = commands(period["period"], period["from"], period["to"])
    out = [["demo", "--leads", str(SPARK_LEADS), "--months", str(SPARK_MONTHS), "--format",
            "json", "--db", db]]
    for name in SPARK_COMMANDS:
        args = [a.replace("{out}", str(folder / "review.html")) for a in chosen[name]]
        out.append([*args, "--db", db])
    return out


@pytest.mark.spark
@pytest.mark.slow
def test_summary_insights_forecast_review_and_serve_on_spark_give_duckdbs_answer(tmp_path, period):
    import os
    import subprocess
    import sys

    duck, spark = tmp_path / "duck", tmp_path / "spark"
    duck.mkdir()
    spark.mkdir()
    found = {}
    for folder, db in ((duck, str(duck / "funnel.duckdb")),
                       (spark, "pyspark:///warehouse?spark.master=local[2]"
                               "&spark.sql.shuffle.partitions=2")):
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        urls = [u.format(**period) for u in API]
        done = subprocess.run([sys.executable, "-c", DRIVER,
                               json.dumps(spark_commands(db, folder, period)), db,
                               json.dumps(urls)],
                              cwd=folder, capture_output=True, text=True, env=env, timeout=1800)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs = [json.loads(line) for line in done.stdout.splitlines()
                   if line.startswith('"')]
        found[folder.name] = dict(zip(("demo", *SPARK_COMMANDS, *API), outputs, strict=True))
        found[folder.name]["report"] = (folder / "review.html").read_text(encoding="utf-8")
    assert (spark / "warehouse").is_dir()  # the tables live in the warehouse
    for name, want in found["duck"].items():
        got = found["spark"][name]
        if name == "report":
            assert NUMBER.sub("n", got) == NUMBER.sub("n", want)
            assert len(got) > 10_000
            continue
        assert parsed(want), name
        same(parsed(got), parsed(want), name)
