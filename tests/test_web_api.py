"""REST API: every endpoint with every role, scoping (a rep never sees another rep's rows),
errors as 4xx JSON, exports, the login flow and the `serve` / `user add` commands."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from openpyxl import load_workbook
from test_web_data import Client, build_workspace, month_end, whole_months
from typer.testing import CliRunner

from funnelmetrics.cli import app as cli_app
from funnelmetrics.web.app import create_app
from funnelmetrics.web.source import Source
from funnelmetrics.web.warm import Warmer

TEAM = {"r1": "east", "r2": "east", "r3": "west", "r4": "west"}


class World:
    """The workspace, its tokens, a client, and the expected facts read straight from DuckDB.

    The data moves with today, so the queries' range does too: ten whole months of leads,
    `start` to `end`, and `as_of` the first day of the fourth of them."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.tokens = build_workspace(db)
        months = whole_months(db)
        self.start, self.end = months[0].isoformat(), month_end(months[9]).isoformat()
        self.as_of = months[3].isoformat()
        self.range = f"start={self.start}&end={self.end}"
        con = duckdb.connect(str(db), read_only=True)
        self.lead_rep = dict(con.execute("SELECT lead_id, rep_id FROM leads").fetchall())
        self.opp_rep = dict(con.execute("SELECT opportunity_id, rep_id FROM opportunities")
                            .fetchall())
        self.account_reps: dict[str, set[str]] = {}
        for acc, rep in con.execute("SELECT account_id, rep_id FROM leads UNION "
                                    "SELECT account_id, rep_id FROM opportunities").fetchall():
            self.account_reps.setdefault(acc, set()).add(rep)
        self.leads_in_range = dict(con.execute(
            f"SELECT rep_id, count(*) FROM leads WHERE created_at >= '{self.start}' AND "
            f"created_at < DATE '{self.end}' + 1 GROUP BY 1").fetchall())
        con.close()
        self.client = Client(create_app(db))

    def token(self, who: str) -> str:
        return self.tokens[who]

    def get(self, url: str, who: str | None = "root", **kw: Any) -> Any:
        return self.client.get(url, token=self.tokens[who] if who else None, **kw)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("web") / "funnel.duckdb")
    yield w
    w.client.close()


ALLOWED = {"root": {"r1", "r2", "r3", "r4"}, "east-boss": {"r1", "r2"}, "ana": {"r1"},
           "budi": {"r2"}}


def reps_of_row(world: World, table: str, row: dict[str, Any]) -> set[str]:
    """The reps a row belongs to (its own rep_id, or its lead's, opportunity's or account's)."""
    if table in ("leads", "opportunities", "quotas", "reps"):
        return {row["rep_id"]}
    if table in ("stage_events", "touchpoints"):
        return {world.lead_rep[row["lead_id"]]}
    if table == "deal_stage_events":
        return {world.opp_rep[row["opportunity_id"]]}
    return world.account_reps.get(row["account_id"], set())


# ---- authentication -------------------------------------------------------------------------
ENDPOINTS = ["/api/v1/catalog", "/api/v1/me", "/api/v1/metric/win_rate", "/api/v1/funnel",
             "/api/v1/attribution", "/api/v1/overview",
             "/api/v1/rows/leads", "/api/v1/tables", "/api/v1/dimensions",
             "/api/v1/dimensions/source/values", "/api/v1/export/leads.csv",
             "/api/v1/export/metric/win_rate.xlsx", "/api/v1/export/funnel.csv"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_every_endpoint_needs_a_token(world: World, url: str) -> None:
    r = world.get(url, who=None)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert isinstance(r.json()["detail"], str)
    bad = world.client.get(url, token="fm_nobody_secret")
    assert bad.status_code == 401


def test_ingest_needs_a_token(world: World) -> None:
    r = world.client.post("/api/v1/ingest", files={"files": ("leads.csv", b"lead_id\n")})
    assert r.status_code == 401


def test_me_per_role(world: World) -> None:
    assert world.get("/api/v1/me").json()["rep_ids"] is None
    assert world.get("/api/v1/me", "east-boss").json()["rep_ids"] == ["r1", "r2"]
    me = world.get("/api/v1/me", "ana").json()
    assert (me["role"], me["rep_id"], me["rep_ids"]) == ("rep", "r1", ["r1"])
    assert world.get("/api/v1/me", "board").json()["role"] == "viewer"


# ---- catalogue, metric, funnel ----------------------------------------------------------------
def test_catalog_in_three_languages(world: World) -> None:
    en = {m["id"]: m for m in world.get("/api/v1/catalog").json()["metrics"]}
    ind = {m["id"]: m for m in world.get("/api/v1/catalog?lang=id").json()["metrics"]}
    assert en["win_rate"]["name"] == "Win rate"
    assert ind["win_rate"]["name"] != en["win_rate"]["name"]
    assert en["win_rate"]["unit"] == "ratio"
    assert world.get("/api/v1/catalog?lang=xx").status_code == 422


def test_metric_is_the_cli_json(world: World) -> None:
    url = (f"/api/v1/metric/win_rate?grain=quarter&by=source&{world.range}"
           "&where=segment=SMB&where=segment=MM")
    api = world.get(url).json()
    result = CliRunner().invoke(cli_app, [
        "metric", "win_rate", "--db", str(world.db), "--grain", "quarter", "--by", "source",
        "--start", world.start, "--end", world.end, "--where", "segment=SMB",
        "--where", "segment=MM", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert api == json.loads(result.stdout.strip().splitlines()[-1])
    assert set(api) == {"metric", "unit", "rows"}
    assert {"period_start", "source", "value", "numerator", "denominator"} <= set(api["rows"][0])


def test_metric_params_and_as_of(world: World) -> None:
    r = world.get(f"/api/v1/metric/stage_conversion_rate?param=from_stage=mql"
                  f"&param=to_stage=sql&{world.range}")
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert all(row["denominator"] is None or row["denominator"] >= 0 for row in rows)
    now = world.get(f"/api/v1/metric/leads_created?grain=all&{world.range}").json()
    then = world.get(f"/api/v1/metric/leads_created?grain=all&{world.range}"
                     f"&as_of={world.as_of}").json()
    assert then["rows"][0]["value"] < now["rows"][0]["value"]


def test_funnel(world: World) -> None:
    body = world.get(f"/api/v1/funnel?{world.range}&by=segment").json()
    assert body["funnel"] == "sales"
    assert {r["stage"] for r in body["rows"]} == {"lead", "mql", "sql", "opportunity", "won"}
    assert {r["segment"] for r in body["rows"]} == {"SMB", "MM", "ENT"}


def test_attribution_compares_models(world: World) -> None:
    r = world.get(f"/api/v1/attribution?model=linear,first_touch&{world.range}")
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["model"] for x in results] == ["linear", "first_touch"]
    assert {"channel", "credited_conversions", "credited_revenue", "spend", "roi"} <= set(
        results[0]["rows"][0])


@pytest.mark.parametrize("what", ["forecast"])  # /insights answers (issue 15)
def test_features_not_built_have_no_endpoint(world: World, what: str) -> None:
    assert world.get(f"/api/v1/{what}").status_code == 404  # no placeholder answering 501


def test_overview_tiles(world: World) -> None:
    body = world.get("/api/v1/overview?grain=month").json()
    tiles = {t["metric"]: t for t in body["tiles"]}
    assert {"leads_created", "win_rate"} <= set(tiles)
    leads = tiles["leads_created"]
    assert leads["value"] == leads["sparkline"][-1]["value"]
    assert len(leads["sparkline"]) == 12
    assert tiles["win_rate"]["benchmark_status"] in ("great", "good", "below", None)


# ---- user errors are 4xx with a one-line detail, never 500 ------------------------------------
@pytest.mark.parametrize(("url", "status"), [
    ("/api/v1/metric/no_such_metric", 404),
    ("/api/v1/metric/win_rate?by=no_such_dim", 400),
    ("/api/v1/metric/win_rate?start=yesterday", 400),
    ("/api/v1/metric/win_rate?start=2026-05-01&end=2026-01-01", 400),
    ("/api/v1/metric/win_rate?grain=fortnight", 422),
    ("/api/v1/metric/win_rate?where=segment", 400),
    ("/api/v1/metric/win_rate?param=nope=1", 400),
    ("/api/v1/metric/time_in_stage?param=stage=nowhere", 400),
    ("/api/v1/metric/stage_conversion_rate?param=window_days=abc", 400),
    ("/api/v1/metric/stage_conversion_rate?param=window_days=nan", 400),
    ("/api/v1/metric/leads_created?grain=day&start=1900-01-01&end=2200-01-01", 400),
    ("/api/v1/metric/leads_created?start=0001-01-01", 400),
    ("/api/v1/funnel?funnel=nope", 400),
    ("/api/v1/funnel?start=2026-02-30", 400),
    ("/api/v1/rows/no_such_table", 404),
    ("/api/v1/rows/leads?no_such_column=1", 400),
    ("/api/v1/rows/leads?date_column=source", 400),
    ("/api/v1/rows/reps?start=2026-01-01", 400),
    ("/api/v1/rows/leads?limit=0", 422),
    ("/api/v1/rows/leads?limit=100000", 422),
    ("/api/v1/export/leads.pdf", 422),
    ("/api/v1/export/metric/nope.csv", 404),
    ("/api/v1/dimensions?entity=nope", 404),
    ("/api/v1/dimensions/nope/values", 400),
])
def test_user_errors(world: World, url: str, status: int) -> None:
    r = world.get(url)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str) and r.json()["detail"]


# ---- rows, exports ----------------------------------------------------------------------------
def test_rows_paginated_and_filtered(world: World) -> None:
    first = world.get("/api/v1/rows/leads?limit=10").json()
    assert (first["total"], len(first["rows"]), first["offset"]) == (1200, 10, 0)
    second = world.get("/api/v1/rows/leads?limit=10&offset=10").json()
    assert not {r["lead_id"] for r in first["rows"]} & {r["lead_id"] for r in second["rows"]}
    web = world.get(f"/api/v1/rows/leads?limit=1000&source=web&{world.range}").json()
    assert web["rows"] and all(r["source"] == "web" for r in web["rows"])
    assert all(world.start <= r["created_at"][:10] <= world.end for r in web["rows"])
    same = world.get(f"/api/v1/rows/leads?limit=1&where=source=web&{world.range}")
    assert same.json()["total"] == web["total"]
    team = world.get("/api/v1/rows/opportunities?limit=1000&where=rep.team=west").json()
    assert team["rows"] and {r["rep_id"] for r in team["rows"]} <= {"r3", "r4"}
    won = world.get("/api/v1/rows/opportunities?limit=1000&status=won&date_column=closed_at"
                    f"&{world.range}").json()
    assert won["rows"] and all(r["status"] == "won" and world.start <= r["closed_at"][:10]
                               <= world.end for r in won["rows"])
    events = world.get("/api/v1/rows/stage_events?limit=1000&stage=won&source=web").json()
    assert events["rows"] and all(r["stage"] == "won" for r in events["rows"])


def test_exports(world: World) -> None:
    r = world.get("/api/v1/export/leads.csv?source=web")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="leads.csv"' in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and all(row["source"] == "web" for row in rows)
    x = world.get("/api/v1/export/opportunities.xlsx?status=won")
    sheet = load_workbook(io.BytesIO(x.content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert "opportunity_id" in header and sheet.max_row > 1
    m = world.get(f"/api/v1/export/metric/win_rate.csv?by=source&{world.range}")
    metric_rows = list(csv.DictReader(io.StringIO(m.text)))
    assert metric_rows[0]["metric"] == "win_rate" and "value" in metric_rows[0]
    mx = world.get("/api/v1/export/metric/leads_created.xlsx?grain=quarter")
    assert load_workbook(io.BytesIO(mx.content)).active.max_row > 1
    f = world.get(f"/api/v1/export/funnel.xlsx?{world.range}")
    assert f.status_code == 200


# ---- roles --------------------------------------------------------------------------------
SCOPED_TABLES = ["leads", "opportunities", "stage_events", "touchpoints", "quotas", "reps",
                 "subscriptions", "accounts"]


@pytest.mark.parametrize("who", ["root", "east-boss", "ana", "budi"])
@pytest.mark.parametrize("table", SCOPED_TABLES)
def test_rows_are_the_callers_only(world: World, who: str, table: str) -> None:
    body = world.get(f"/api/v1/rows/{table}?limit=1000", who).json()
    seen = set().union(*(reps_of_row(world, table, r) for r in body["rows"])) \
        if body["rows"] else set()
    if table in ("accounts", "subscriptions"):  # accounts are shared: one rep must be the caller
        assert all(reps_of_row(world, table, r) & ALLOWED[who] for r in body["rows"])
    else:
        assert seen <= ALLOWED[who]
    if table in ("leads", "opportunities", "stage_events"):
        assert seen == ALLOWED[who]  # and they do see all of their own


@pytest.mark.parametrize("who", ["east-boss", "ana"])
@pytest.mark.parametrize("table", ["leads", "stage_events", "opportunities"])
def test_exports_are_the_callers_only(world: World, who: str, table: str) -> None:
    rows = list(csv.DictReader(io.StringIO(world.get(f"/api/v1/export/{table}.csv", who).text)))
    assert rows
    assert set().union(*(reps_of_row(world, table, r) for r in rows)) <= ALLOWED[who]
    x = world.get(f"/api/v1/export/{table}.xlsx", who)
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet.max_row == len(rows) + 1


@pytest.mark.parametrize("who", ["root", "east-boss", "ana", "budi"])
def test_metric_and_funnel_are_scoped(world: World, who: str) -> None:
    expected = sum(world.leads_in_range.get(r, 0) for r in ALLOWED[who])
    by_rep = world.get(f"/api/v1/metric/leads_created?grain=all&by=rep_id&{world.range}",
                       who).json()["rows"]
    assert {r["rep_id"] for r in by_rep} == ALLOWED[who]
    total = world.get(f"/api/v1/metric/leads_created?grain=all&{world.range}",
                      who).json()["rows"][0]["value"]
    assert total == expected
    funnel = world.get(f"/api/v1/funnel?{world.range}&by=rep_id", who).json()["rows"]
    assert {r["rep_id"] for r in funnel} == ALLOWED[who]
    first = world.get(f"/api/v1/funnel?{world.range}", who).json()["rows"][0]
    assert first["reached"] == expected
    export = world.get(f"/api/v1/export/metric/leads_created.csv?grain=all&by=rep_id"
                       f"&{world.range}", who)
    assert {row["rep_id"] for row in csv.DictReader(io.StringIO(export.text))} == ALLOWED[who]
    values = world.get("/api/v1/dimensions/rep_id/values", who).json()["values"]
    assert set(values) == ALLOWED[who]


def test_rep_cannot_ask_for_another_reps_rows(world: World) -> None:
    for url in ("/api/v1/metric/leads_created?where=rep_id=r2",
                "/api/v1/funnel?where=rep_id=r3", "/api/v1/export/metric/win_rate.csv?where=rep_id=r2"):
        assert world.get(url, "ana").status_code == 403
    assert world.get("/api/v1/rows/leads?rep_id=r2", "ana").json()["total"] == 0
    assert world.get("/api/v1/export/leads.csv?rep_id=r2", "ana").text.count("\n") == 1
    mixed = world.get("/api/v1/metric/leads_created?grain=all&by=rep_id&where=rep_id=r1"
                      "&where=rep_id=r3", "east-boss").json()["rows"]
    assert {r["rep_id"] for r in mixed} == {"r1"}


# What each role gets (SPEC §4 "Access"). Admins get everything. A manager gets the rows and
# figures of their team's reps, a rep their own; data that belongs to no rep (spend, campaigns,
# survey answers, and the figures and attribution built on them) is refused to both rather than
# shown company-wide. A viewer gets every aggregate, company-wide, and no row.
ROLE = {"root": "admin", "east-boss": "manager", "ana": "rep", "budi": "rep", "board": "viewer"}
ROWS_OK = {"admin": 200, "manager": 200, "rep": 200, "viewer": 403}
ADMIN_ONLY = {"admin": 200, "manager": 403, "rep": 403, "viewer": 403}
AGGREGATE = {"admin": 200, "manager": 200, "rep": 200, "viewer": 200}
NOT_PER_REP = {"admin": 200, "manager": 403, "rep": 403, "viewer": 200}
ACCESS = {
    "/api/v1/rows/leads?limit=1000": ROWS_OK,
    "/api/v1/rows/opportunities?limit=1000": ROWS_OK,
    "/api/v1/rows/subscriptions?limit=1000": ROWS_OK,
    "/api/v1/export/leads.csv": ROWS_OK,
    "/api/v1/tables": ROWS_OK,
    "/api/v1/rows/spend": ADMIN_ONLY,
    "/api/v1/rows/campaigns": ADMIN_ONLY,
    "/api/v1/rows/survey_responses": ADMIN_ONLY,
    "/api/v1/export/spend.csv": ADMIN_ONLY,
    "/api/v1/rows/_quarantine": {"admin": 200, "manager": 404, "rep": 404, "viewer": 403},
    "/api/v1/metric/leads_created?grain=all&by=rep_id": AGGREGATE,
    "/api/v1/funnel?by=rep_id": AGGREGATE,
    "/api/v1/dimensions/rep_id/values": AGGREGATE,
    "/api/v1/metric/mrr": NOT_PER_REP,
    "/api/v1/metric/cost_per_lead": NOT_PER_REP,
    "/api/v1/metric/enps": NOT_PER_REP,
    "/api/v1/attribution?model=linear": NOT_PER_REP,
}
SEES = {**ALLOWED, "board": ALLOWED["root"]}  # whose figures each caller's aggregates hold


@pytest.mark.parametrize("who", list(ROLE))
@pytest.mark.parametrize("url", list(ACCESS))
def test_each_role_gets_exactly_its_status_and_only_its_scope(world: World, url: str,
                                                              who: str) -> None:
    r = world.get(url, who)
    assert r.status_code == ACCESS[url][ROLE[who]], r.text
    if r.status_code != 200:
        assert isinstance(r.json()["detail"], str) and r.json()["detail"]
        return
    path = url.split("?")[0]
    if path.startswith(("/api/v1/rows/", "/api/v1/export/")):
        table = path.rsplit("/", 1)[1].split(".")[0]
        rows = (list(csv.DictReader(io.StringIO(r.text))) if path.endswith(".csv")
                else r.json()["rows"])
        if table in ("leads", "opportunities"):  # their own rep: every one of theirs, no other
            assert set().union(*(reps_of_row(world, table, row) for row in rows)) == SEES[who]
        elif table == "subscriptions":  # an account may be shared: one rep must be theirs
            assert rows and all(reps_of_row(world, table, row) & SEES[who] for row in rows)
        else:  # tables whose rows belong to no rep: the admin's alone
            assert ROLE[who] == "admin"
    elif path == "/api/v1/tables":
        assert ("_quarantine" in r.json()["tables"]) == (ROLE[who] == "admin")
    elif path.startswith("/api/v1/dimensions/"):
        assert set(r.json()["values"]) == SEES[who]
    elif "by=rep_id" in url:
        assert {row["rep_id"] for row in r.json()["rows"]} == SEES[who]
    else:  # figures that belong to no rep: the viewer's are the admin's, company-wide
        assert r.json() == world.get(url, "root").json()


def test_viewer_sees_aggregates_only(world: World) -> None:
    for url in ("/api/v1/rows/leads", "/api/v1/export/leads.csv", "/api/v1/export/leads.xlsx",
                "/api/v1/tables", "/rows/leads"):
        r = world.get(url, "board")
        assert r.status_code == 403, url
    for url in ("/api/v1/metric/win_rate", "/api/v1/funnel", "/api/v1/overview",
                "/api/v1/export/metric/win_rate.csv", "/api/v1/catalog"):
        assert world.get(url, "board").status_code == 200, url
    total = world.get(f"/api/v1/metric/leads_created?grain=all&{world.range}",
                      "board").json()["rows"][0]["value"]
    assert total == sum(world.leads_in_range.values())


def test_admin_sees_the_quarantine_others_do_not(world: World) -> None:
    assert world.get("/api/v1/rows/_quarantine").status_code == 200
    assert world.get("/api/v1/rows/_quarantine", "east-boss").status_code == 404
    assert world.get("/api/v1/rows/_users").status_code == 404


# ---- login, pages, cookies ------------------------------------------------------------------
def test_pages_redirect_to_login_and_login_sets_a_session(world: World) -> None:
    client = Client(create_app(world.db, secret=b"k" * 32))
    try:
        r = client.get("/funnel?grain=week")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        login = client.get("/login?next=/funnel")
        assert login.status_code == 200 and 'name="csrf_token"' in login.text
        csrf = client.cookies["fm_csrf"]
        assert client.post("/login", data={"token": world.token("ana")}).status_code == 403
        bad = client.post("/login", data={"token": "fm_x_y", "csrf_token": csrf})
        assert bad.status_code == 401
        ok = client.post("/login", data={"token": world.token("ana"), "csrf_token": csrf,
                                         "next": "/funnel"})
        assert ok.status_code == 303 and ok.headers["location"] == "/funnel"
        cookie = ok.headers["set-cookie"].lower()
        assert "fm_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        page = client.get("/funnel")
        assert page.status_code == 200 and "ana (rep)" in page.text
        me = client.get("/api/v1/me").json()
        assert me["rep_ids"] == ["r1"]
        upload = client.post("/api/v1/ingest", files={"files": ("leads.csv", b"lead_id\n")})
        assert upload.status_code == 403
        assert client.post("/logout", data={}).status_code == 403
        out = client.post("/logout", data={"csrf_token": csrf})
        assert out.status_code == 303
        client.cookies.delete("fm_session")
        assert client.get("/api/v1/me").status_code == 401
        assert client.post("/login", data={"token": world.token("ana"), "csrf_token": csrf,
                                           "next": "//evil.example"}).headers["location"] == "/"
    finally:
        client.close()


def test_forged_session_cookie_is_ignored(world: World) -> None:
    client = Client(create_app(world.db, secret=b"k" * 32))
    try:
        client.cookies.set("fm_session", "YWRtaW58OTk5OTk5OTk5OQ==.deadbeef")
        assert client.get("/api/v1/me").status_code == 401
        assert client.get("/").status_code == 303
    finally:
        client.close()


def test_no_auth_app_is_admin(world: World) -> None:
    client = Client(create_app(world.db, auth=False))
    try:
        assert client.get("/api/v1/me").json()["role"] == "admin"
        assert client.get("/api/v1/rows/leads?limit=1").json()["total"] == 1200
        assert client.get("/").status_code == 200
        assert client.get("/login").status_code == 303
    finally:
        client.close()


# ---- ingest (admin) ---------------------------------------------------------------------------
def test_ingest_is_admin_only_and_loads(world: World, tmp_path: Path) -> None:
    body = b"lead_id,created_at,source,rep_id\nNEW1,2026-06-01,web,r1\nNEW2,not-a-date,web,r1\n"
    for who in ("east-boss", "ana", "board"):
        r = world.client.post("/api/v1/ingest", token=world.token(who),
                              files={"files": ("leads.csv", body)})
        assert r.status_code == 403
    before = world.get("/api/v1/rows/leads?limit=1").json()["total"]
    r = world.client.post("/api/v1/ingest", token=world.token("root"),
                          files={"files": ("leads.csv", body)})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["tables"]["leads"] == {"rows": 2, "accepted": 1, "rejected": 1}
    assert world.get("/api/v1/rows/leads?limit=1").json()["total"] == before + 1
    assert world.get("/api/v1/rows/leads?lead_id=NEW1", "ana").json()["total"] == 1
    assert world.get("/api/v1/rows/leads?lead_id=NEW1", "budi").json()["total"] == 0
    broken = world.client.post("/api/v1/ingest", token=world.token("root"),
                               files={"files": ("leads.csv", b"nothing,useful\n1,2\n")})
    assert broken.status_code == 400
    nameless = world.client.post("/api/v1/ingest", token=world.token("root"),
                                 files={"files": (".hidden", b"x")})
    assert nameless.status_code == 400


# ---- CLI: serve and user ----------------------------------------------------------------------
def test_user_add_prints_the_token_last(world: World) -> None:
    runner = CliRunner()
    r = runner.invoke(cli_app, ["user", "add", "chen", "--role", "rep", "--rep-id", "r3",
                                "--db", str(world.db)])
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("fm_")
    me = world.client.get("/api/v1/me", token=token).json()
    assert (me["name"], me["rep_ids"]) == ("chen", ["r3"])
    rows = world.client.get("/api/v1/rows/leads?limit=1000", token=token).json()["rows"]
    assert {r["rep_id"] for r in rows} == {"r3"}
    listed = runner.invoke(cli_app, ["user", "list", "--db", str(world.db)])
    assert "chen\trep\tr3" in listed.stdout and token not in listed.stdout
    stored = duckdb.connect(str(world.db), read_only=True)
    try:
        hashes = [h for (h,) in stored.execute("SELECT token_hash FROM _users").fetchall()]
    finally:
        stored.close()
    assert token.split("_", 2)[2] not in " ".join(hashes)
    assert runner.invoke(cli_app, ["user", "remove", "chen", "--db", str(world.db)]).exit_code \
        == 0
    assert world.client.get("/api/v1/me", token=token).status_code == 401


@pytest.mark.parametrize("args", [
    ["user", "add", "x", "--role", "rep"],
    ["user", "add", "x", "--role", "manager"],
    ["user", "add", "x", "--role", "boss"],
    ["user", "add", "x", "--role", "viewer", "--team", "east"],
    ["user", "add", "root", "--role", "admin"],
])
def test_user_add_mistakes(world: World, args: list[str]) -> None:
    r = CliRunner().invoke(cli_app, [*args, "--db", str(world.db)])
    assert r.exit_code == 1
    assert "error" in r.output and "Traceback" not in r.output


def test_serve_no_auth_only_on_localhost(world: World) -> None:
    r = CliRunner().invoke(cli_app, ["serve", "--db", str(world.db), "--no-auth", "--host",
                                     "0.0.0.0"])
    assert r.exit_code == 1
    assert "only allowed on localhost" in r.output
    missing = CliRunner().invoke(cli_app, ["serve", "--db", str(world.db.parent / "nope.duckdb")])
    assert missing.exit_code == 1 and "no workspace" in missing.output


def test_warmer_fills_the_cache_and_rewarms_after_a_change(world: World) -> None:
    source = Source(world.db)
    warmer = Warmer(source, every=0.05, pages=("overview",))

    def settled(timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while warmer.warmed != source.version():
            assert time.monotonic() < deadline, "the warmer did not finish"
            time.sleep(0.05)

    warmer.start()
    try:
        settled()
        assert any(key[1][0] == "tiles" for key in list(source.cache._data))
        stat = world.db.stat()
        os.utime(world.db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # "new data"
        settled()
        versions = {key[0] for key in list(source.cache._data)}
        assert source.version() in versions
    finally:
        warmer.stop()


def test_openapi_schema_is_complete(world: World) -> None:
    schema = world.client.get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/v1/catalog", "/api/v1/metric/{metric_id}", "/api/v1/funnel",
                 "/api/v1/attribution", "/api/v1/rows/{table}", "/api/v1/export/{table}.{fmt}",
                 "/api/v1/export/metric/{metric_id}.{fmt}", "/api/v1/ingest"):
        assert path in paths, path
    ok = paths["/api/v1/metric/{metric_id}"]["get"]["responses"]
    assert ok["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/MetricOut")
    assert ok["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "HTTPBearer" in schema["components"]["securitySchemes"]
    assert not any(p.startswith(("/funnel", "/rows", "/login")) for p in paths)
