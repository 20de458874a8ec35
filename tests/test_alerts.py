"""Alerts fire exactly when their rule holds (both sides of every threshold), bad rules name
themselves, delivery to a file and a local webhook (with retries), the `alerts` command."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import funnelmetrics
from funnelmetrics.cli import app
from funnelmetrics.errors import ConfigError
from funnelmetrics.insights.alerts import (
    deliver,
    evaluate,
    parse_rule,
    post_json,
    rules_of,
    run_alerts,
)
from funnelmetrics.insights.findings import parse_period
from tests.journeys import journeys

# leads created per month (source A; July also 10 of source B)
LEADS = {"2024-07": 30, "2025-07": 32, "2026-01": 10, "2026-02": 12, "2026-03": 10,
         "2026-04": 12, "2026-05": 10, "2026-06": 12, "2026-07": 30}
# win rate: January 2 of 4 won (0.5), February 1 of 4 (0.25)
DEALS = [("2026-01-15", s) for s in ("won", "won", "lost", "lost")] + \
    [("2026-02-15", s) for s in ("won", "lost", "lost", "lost")]


def _world(tmp_path: Path, rules: list[dict[str, Any]] | None = None):  # noqa: ANN202
    events, leads = {}, {}
    for month, n in LEADS.items():
        for i in range(n):
            events[f"A{month}-{i}"] = [("lead", f"{month}-03")]
            leads[f"A{month}-{i}"] = {"source": "A"}
    for i in range(10):
        events[f"B{i}"] = [("lead", "2026-07-04")]
        leads[f"B{i}"] = {"source": "B"}
    opps = [{"created_at": "2025-12-01", "amount": 100, "status": s, "closed_at": day}
            for day, s in DEALS]
    config = funnelmetrics.Config(alerts=tuple(rules or ()))
    return journeys(tmp_path, events, leads=leads, opportunities=opps, config=config)


def _rule(**kw: Any) -> dict[str, Any]:
    return {"name": "r", "metric": "win_rate", **kw}


def _fires(ws: Any, raw: dict[str, Any], period: str) -> dict[str, Any] | None:
    return evaluate(ws, parse_rule(raw), parse_period(period), as_of="2026-12-31")


@pytest.fixture
def ws(tmp_path: Path):  # noqa: ANN201
    return _world(tmp_path)


def test_below_and_above_fire_exactly_on_their_side(ws: Any) -> None:
    # February's win rate is 1/4 = 0.25
    assert _fires(ws, _rule(below=0.25), "2026-02") is None  # not below itself
    hit = _fires(ws, _rule(below=0.2501), "2026-02")
    assert hit is not None and (hit["value"], hit["threshold"]) == (0.25, 0.2501)
    assert hit["period_start"] == "2026-02-01" and hit["alert"] == "r"
    assert set(hit) >= {"alert", "metric", "period_start", "value", "threshold", "message"}
    assert _fires(ws, _rule(above=0.25), "2026-02") is None
    assert _fires(ws, _rule(above=0.2499), "2026-02") is not None
    # no closed deal in March: no value, nothing fires either way
    assert _fires(ws, _rule(below=1.0), "2026-03") is None
    assert _fires(ws, _rule(above=-1.0), "2026-03") is None


def test_change_below_against_the_previous_period(ws: Any) -> None:
    # (0.25 − 0.5) / 0.5 = −0.5 exactly
    assert _fires(ws, _rule(change_below=-0.5), "2026-02") is None
    hit = _fires(ws, _rule(change_below=-0.4999), "2026-02")
    assert hit is not None and hit["change"] == -0.5 and hit["previous"] == 0.5
    # January has no previous value (no deals in December): never fires
    assert _fires(ws, _rule(change_below=100.0), "2026-01") is None


def test_where_and_params(ws: Any) -> None:
    # July: 30 A leads + 10 B leads; with where source = B only 10
    rule = {"name": "few B", "metric": "leads_created", "where": {"source": "B"}}
    assert _fires(ws, {**rule, "below": 10}, "2026-07") is None
    assert _fires(ws, {**rule, "below": 10.5}, "2026-07")["value"] == 10
    assert _fires(ws, {**rule, "above": 39.5, "where": {}}, "2026-07")["value"] == 40
    conv = {"name": "c", "metric": "stage_conversion_rate",
            "params": {"from_stage": "lead", "to_stage": "mql"}, "below": 0.5}
    assert _fires(ws, conv, "2026-07")["value"] == 0.0  # nobody reached mql


def test_anomaly_is_seasonal_when_earlier_years_exist(ws: Any) -> None:
    rule = {"name": "a", "metric": "leads_created", "anomaly": True, "where": {"source": "A"}}
    # July 2026: 30 A leads; Julys 2024 and 2025: 30 and 32 → mean 31, sd √2,
    # interval 31 ± 2√2 = [28.17, 33.83]: 30 is expected, no alert (trailing months would say
    # otherwise)
    assert _fires(ws, rule, "2026-07") is None
    # June 2026: the periods read (Junes 2023–25, Dec 2025–May 2026) are 0 until January
    # 2026, so the data begins there for this rule: no earlier Junes, trailing Jan–May 10, 12,
    # 10, 12, 10 → mean 10.8, sd √1.2, interval [8.61, 12.99]: 12 is inside, 13 would not be
    assert _fires(ws, rule, "2026-06") is None


def test_anomaly_from_trailing_periods(tmp_path: Path) -> None:
    # without the earlier Julys (0 before the data began): trailing Jan–Jun 10, 12, 10, 12, 10, 12 → mean 11, sd √1.2,
    # interval 11 ± 2√1.2 = [8.81, 13.19]; July's 30 is above it
    del_years = {k: v for k, v in LEADS.items() if not k.endswith("-07") or k == "2026-07"}
    events = {f"A{m}-{i}": [("lead", f"{m}-03")] for m, n in del_years.items()
              for i in range(n)}
    ws = journeys(tmp_path, events)
    hit = _fires(ws, {"name": "a", "metric": "leads_created", "anomaly": True}, "2026-07")
    assert hit is not None and hit["value"] == 30 and hit["basis"] == "trailing periods"
    assert hit["expected"] == pytest.approx(11)
    assert hit["threshold"] == pytest.approx(11 + 2 * 1.2 ** 0.5) == hit["high"]


@pytest.mark.parametrize(("raw", "match"), [
    ({"metric": "win_rate", "below": 1}, "alert #1: every"),
    (_rule(below=1, colour="red"), "alert 'r': unknown key"),
    ({"name": "r", "below": 1}, "alert 'r': needs a metric"),
    (_rule(metric="nope", below=1), "alert 'r': unknown metric"),
    (_rule(), "alert 'r': needs exactly one of"),
    (_rule(below=1, above=2), "alert 'r': needs exactly one of .* not below and above"),
    (_rule(below="low"), "alert 'r': below must be a number"),
    (_rule(below=True), "alert 'r': below must be a number"),
    (_rule(anomaly="yes"), "alert 'r': anomaly takes true"),
    (_rule(below=1, grain="fortnight"), "alert 'r':"),
    (_rule(below=1, deliver=["email:x@y"]), "alert 'r': cannot deliver to 'email:x@y'"),
    (_rule(below=1, deliver=["webhook:ftp://x"]), "alert 'r': cannot deliver"),
    (_rule(below=1, where="segment=SMB"), "alert 'r': where must be a table"),
])
def test_bad_rules_name_themselves(raw: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        parse_rule(raw)


def test_a_bad_query_names_the_rule_and_duplicates_are_refused(tmp_path: Path) -> None:
    ws = _world(tmp_path / "a", [_rule(below=1, params={"from_stage": "nowhere"})])
    with pytest.raises(ConfigError, match="alert 'r':"):
        run_alerts(ws, "2026-02")
    ws2 = _world(tmp_path / "b", [_rule(below=1), _rule(above=0)])
    with pytest.raises(ConfigError, match="alert 'r': two rules share this name"):
        rules_of(ws2)


class _Hook(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    failures_left = 0

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook():  # noqa: ANN201
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.received, _Hook.failures_left = [], 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_delivery_to_a_file_and_a_webhook_with_retries(tmp_path: Path, hook: str) -> None:
    rule = _rule(below=0.3, deliver=["terminal", "file:out/alerts.jsonl", f"webhook:{hook}"])
    ws = _world(tmp_path, [rule])
    _Hook.failures_left = 2  # two 503s, then accepted: within 1 + 2 retries
    fired = run_alerts(ws, "2026-02", as_of="2026-12-31")
    assert [a["value"] for a in fired] == [0.25]
    assert deliver(ws, fired[0], backoff=0.01) == []
    assert _Hook.received == [fired[0]]
    lines = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [fired[0]]


def test_webhook_failure_is_reported_after_the_retries(tmp_path: Path, hook: str) -> None:
    _Hook.failures_left = 5
    assert post_json(hook, {"a": 1}, retries=2, backoff=0.01) == "HTTP 503"
    assert _Hook.failures_left == 2  # tried exactly three times
    ws = _world(tmp_path, [_rule(below=0.3, deliver=[f"webhook:{hook}"])])
    _Hook.failures_left = 5
    problems = deliver(ws, run_alerts(ws, "2026-02", as_of="2026-12-31")[0], retries=1,
                       backoff=0.01)
    assert problems == [f"alert 'r': webhook {hook} failed after 2 tries (HTTP 503)"]


def test_alerts_command_prints_one_json_line_per_fired_alert(tmp_path: Path) -> None:
    _world(tmp_path)  # the rows; the rules come from the workspace's funnelmetrics.toml
    (tmp_path / "funnelmetrics.toml").write_text(
        '[[alerts]]\nname = "low win rate"\nmetric = "win_rate"\nbelow = 0.3\n\n'
        '[[alerts]]\nname = "high win rate"\nmetric = "win_rate"\nabove = 0.3\n'
        'deliver = ["file:fired.jsonl"]\n', encoding="utf-8")
    db = str(tmp_path / "journeys.duckdb")
    runner = CliRunner()
    feb = runner.invoke(app, ["alerts", "--db", db, "--period", "2026-02", "--format", "json"])
    assert feb.exit_code == 0, feb.output
    lines = [json.loads(line) for line in feb.stdout.splitlines()]
    assert [(a["alert"], a["value"], a["threshold"]) for a in lines] == [
        ("low win rate", 0.25, 0.3)]
    jan = runner.invoke(app, ["alerts", "--db", db, "--period", "2026-01", "--format", "json"])
    assert [json.loads(line)["alert"] for line in jan.stdout.splitlines()] == ["high win rate"]
    assert json.loads((tmp_path / "fired.jsonl").read_text())["value"] == 0.5
    (tmp_path / "funnelmetrics.toml").write_text(
        '[[alerts]]\nname = "oops"\nmetric = "win_rate"\nbelow = "low"\n', encoding="utf-8")
    bad = runner.invoke(app, ["alerts", "--db", db, "--period", "2026-02"])
    assert bad.exit_code == 1
    assert "alert 'oops': below must be a number" in bad.output
    assert "Traceback" not in bad.output
