"""Insights over REST and on the dashboard: each role gets its scope (a rep only their reps'
rows; a viewer no finding naming a record), the page lists findings with links to their rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_web_data import Client, build_workspace, whole_months

import funnelmetrics
from funnelmetrics.insights.findings import parse_period
from funnelmetrics.insights.report import TIERS, insights
from funnelmetrics.web.app import create_app

IDENTIFYING = {"opportunity_id", "account_id", "lead_id"}


class World:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.tokens = build_workspace(db)
        months = whole_months(db)
        self.period = months[-2].strftime("%Y-%m")
        self.client = Client(create_app(db))

    def get(self, url: str, who: str = "root") -> Any:
        return self.client.get(url, token=self.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("insights-web") / "funnel.duckdb")
    yield w
    w.client.close()


def test_insights_endpoint_shape_and_order(world: World) -> None:
    res = world.get(f"/api/v1/insights?period={world.period}&top=20")
    assert res.status_code == 200, res.text
    body = res.json()
    assert list(body) == ["period", "findings"] and body["period"] == world.period
    found = body["findings"]
    assert found, "the generated workspace has findings"
    tiers = [TIERS[f["kind"]] for f in found]
    assert tiers == sorted(tiers)  # leaks first, status last
    for tier in set(tiers):  # by impact within a tier
        impacts = [f["impact"] for f in found if TIERS[f["kind"]] == tier and f["impact"]]
        assert impacts == sorted(impacts, reverse=True)
    assert all(f["impact"] is None for f in found if f["kind"] in ("benchmark", "kpi"))
    assert all(f["message"] for f in found)
    ws = funnelmetrics.open(world.db, read_only=True)
    try:
        direct = insights(ws, parse_period(world.period), top=20)
    finally:
        ws.close()
    assert found == direct["findings"]  # the API says what the library says


def test_a_rep_sees_only_their_scope(world: World) -> None:
    res = world.get(f"/api/v1/insights?period={world.period}&top=20&lang=id", who="ana")
    assert res.status_code == 200, res.text
    found = res.json()["findings"]
    ws = funnelmetrics.open(world.db, read_only=True)
    try:
        mine = insights(ws, parse_period(world.period), top=20, lang="id",
                        where={"rep_id": ["r1"]})
    finally:
        ws.close()
    assert found == mine["findings"]
    assert all(f["dimension_value"] in (None, "r1") for f in found
               if f["dimension"] == "rep_id")
    assert not any(f["kind"] in ("churn_risk", "kpi") for f in found)  # cannot be limited


def test_a_viewer_gets_no_finding_naming_a_record(world: World) -> None:
    admin = world.get(f"/api/v1/insights?period={world.period}&top=50").json()["findings"]
    viewer = world.get(f"/api/v1/insights?period={world.period}&top=50", who="board")
    assert viewer.status_code == 200
    seen = viewer.json()["findings"]
    assert not any(f["dimension"] in IDENTIFYING for f in seen)
    assert seen == [f for f in admin if f["dimension"] not in IDENTIFYING]
    bad = world.get(f"/api/v1/insights/explain-change?period={world.period}&by=account_id",
                    who="board")
    assert bad.status_code == 403


def test_explain_change_benchmarks_pipeline_and_alerts(world: World) -> None:
    res = world.get(f"/api/v1/insights/explain-change?period={world.period}&by=source")
    assert res.status_code == 200
    ex = res.json()
    assert round(ex["volume"] + ex["mix"] + ex["rate"], 2) == round(ex["change"], 2)
    res = world.get(f"/api/v1/benchmarks?period={world.period}")
    assert res.status_code == 200 and all(r["source"] for r in res.json()["rows"])
    start = f"{world.period}-01"
    res = world.get(f"/api/v1/insights/pipeline-change?start={start}&end={start}")
    assert res.status_code == 200 and res.json()["change"] == 0
    assert world.get(f"/api/v1/insights/pipeline-change?start={start}&end={start}",
                     who="ana").status_code == 403
    assert world.get("/api/v1/alerts").json() == {"alerts": []}  # no rules in this workspace
    for who in ("ana", "board"):
        assert world.get("/api/v1/alerts", who=who).status_code == 403
    assert world.get("/api/v1/insights?period=someday").status_code == 400


def test_insights_page_lists_findings_with_row_links(world: World) -> None:
    res = world.get(f"/insights?grain=month&period={world.period}")
    assert res.status_code == 200
    html = res.text
    assert 'data-nav="insights"' in html and 'class="finding"' in html
    links = re.findall(r'href="(/rows/[^"]+)"', html)
    assert links
    for link in links[:3]:  # the rows behind the findings open
        rows = world.get(link.replace("&amp;", "&"))
        assert rows.status_code == 200 and "<table" in rows.text, link
    viewer = world.get(f"/insights?grain=month&period={world.period}&lang=ms", who="board")
    assert viewer.status_code == 200
    assert "Cerapan" in viewer.text and "/rows/" not in viewer.text  # no rows for viewers
