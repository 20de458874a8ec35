"""Issue 19, "safe by default, no 500s": the probe's reproductions, each one refused cleanly.

Cross-site writes and foreign Host names, formulas in CSV/XLSX exports, a viewer rebuilding
rows from aggregates, unbounded answers, and inputs that used to answer 500 or a traceback.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook
from test_web_data import Client, build_workspace
from typer.testing import CliRunner

from funnelmetrics.cli import app as cli_app
from funnelmetrics.serialize import csv_text
from funnelmetrics.web.app import create_app
from funnelmetrics.web.exports import xlsx_bytes

EVIL = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)",
        "-2+3+cmd|' /C calc'!A0", "\tTAB", "\rCR")
NUL = "nul\x00byte"


class World:
    def __init__(self, db: Path) -> None:
        self.db = db
        self.tokens = build_workspace(db, leads=300)
        con = duckdb.connect(str(db))
        for k, source in enumerate((*EVIL, NUL)):
            con.execute("INSERT INTO leads SELECT * REPLACE (? AS lead_id, ? AS source) "
                        "FROM leads ORDER BY lead_id LIMIT 1", [f"EVIL{k}", source])
        con.close()
        self.client = Client(create_app(db))

    def get(self, url: str, who: str = "root", **kw: object) -> object:
        return self.client.get(url, token=self.tokens[who], **kw)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("hardening") / "funnel.duckdb")
    yield w
    w.client.close()


def _leads(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM leads").fetchone()[0]
    finally:
        con.close()


# ---- 1. cross-site writes and DNS rebinding ---------------------------------------------------
UPLOAD = {"files": ("leads.csv", b"lead_id,created_at,source,rep_id\nXS1,2026-06-01,web,r1\n")}


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"},
                                     {"Origin": "null"},
                                     {"Origin": "http://testserver:3000"},
                                     {"Referer": "http://evil.example/page.html"}])
def test_no_auth_refuses_a_cross_site_upload(world: World, headers: dict[str, str]) -> None:
    client = Client(create_app(world.db, auth=False))
    try:
        before = _leads(world.db)
        r = client.post("/api/v1/ingest", files=UPLOAD, headers=headers)
        assert r.status_code == 403, r.text
        assert "cross-site" in r.json()["detail"]
        assert _leads(world.db) == before
    finally:
        client.close()


def test_cross_site_write_refused_with_a_token_too(world: World) -> None:
    r = world.client.post("/api/v1/ingest", token=world.tokens["root"], files=UPLOAD,
                          headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert world.client.post("/logout", headers={"Origin": "http://evil.example"},
                             data={}).status_code == 403
    # the server's own pages, and clients that are no browser (no Origin, no Referer), pass
    bad = {"files": ("leads.csv", b"nothing,useful\n1,2\n")}  # refused by ingest, not the guard
    for headers in ({"Origin": "http://testserver"}, {"Referer": "http://testserver/upload"},
                    {}):
        r = world.client.post("/api/v1/ingest", token=world.tokens["root"], files=bad,
                              headers=headers)
        assert r.status_code == 400, r.text
        assert "cross-site" not in r.json()["detail"]


def test_a_foreign_host_is_refused_dns_rebinding(world: World) -> None:
    for who in ("root",):
        r = world.get("/api/v1/me", who, headers={"Host": "rebind.evil.example"})
        assert r.status_code == 400
        assert "not allowed" in r.json()["detail"]
    client = Client(create_app(world.db, auth=False))
    try:
        assert client.get("/api/v1/me", headers={"Host": "evil.example:8000"}).status_code \
            == 400
        for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
            assert client.get("/api/v1/me", headers={"Host": host}).status_code == 200, host
    finally:
        client.close()
    allowed = Client(create_app(world.db, auth=False, hosts=["dash.example.com"]))
    try:
        assert allowed.get("/api/v1/me",
                           headers={"Host": "dash.example.com"}).status_code == 200
    finally:
        allowed.close()


# ---- 2. exports never carry a formula ---------------------------------------------------------
def test_csv_export_neutralises_formulas_but_keeps_numbers(world: World) -> None:
    r = world.get("/api/v1/export/metric/leads_created.csv?grain=all&by=source")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    sources = {row["source"] for row in rows}
    for text in EVIL:
        assert "'" + text.replace("\r", "\n") in sources, text
    assert "nulbyte" in sources
    assert not any(s.startswith(("=", "+", "-", "@", "\t", "\r")) for s in sources)
    df = pd.DataFrame({"label": ["=1+1"], "value": [-5.0], "text_number": ["-7"]})
    assert csv_text(df).splitlines()[1] == "'=1+1,-5.0,-7"


def test_xlsx_export_protects_headers_and_strips_nul(world: World) -> None:
    r = world.get("/api/v1/export/metric/leads_created.xlsx?grain=all&by=source")
    assert r.status_code == 200, r.text  # a NUL byte in a value was a 500
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "nulbyte" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    df = pd.DataFrame({'=HYPERLINK("http://evil.example")': ["a"], "value": [-2.5]})
    book = load_workbook(io.BytesIO(xlsx_bytes(df, "x")))
    head, row = list(book.active.iter_rows(values_only=True))
    assert head[0] == "'=HYPERLINK(\"http://evil.example\")"
    assert book.active.cell(1, 1).data_type == "s"
    assert row == ("a", -2.5)


# ---- 3. a viewer sees aggregates, never rows --------------------------------------------------
REBUILDS = ["/api/v1/metric/leads_created?by=lead_id&by=source&grain=day",
            "/api/v1/metric/leads_created?by=source&where=lead_id=L1",
            "/api/v1/metric/leads_created?by=lead.account_id",
            "/api/v1/export/metric/won_revenue.csv?by=opportunity_id",
            "/api/v1/dimensions/lead_id/values",
            "/api/v1/dimensions/account_id/values",
            "/api/v1/metric/enps?by=respondent_id",
            "/api/v1/metric/mrr?by=account.name",
            "/api/v1/metric/leads_created?by=name",
            "/api/v1/funnel?by=account_id"]


@pytest.mark.parametrize("url", REBUILDS)
def test_a_viewer_cannot_split_by_an_identifying_key(world: World, url: str) -> None:
    r = world.get(url, "board")
    assert r.status_code == 403, r.text
    assert "aggregates only" in r.json()["detail"]
    # others keep their splits (their own rows), and a viewer the non-identifying ones
    assert world.get("/api/v1/metric/leads_created?grain=all&by=lead_id").status_code == 200
    assert world.get("/api/v1/metric/leads_created?grain=all&by=lead_id", "ana") \
        .status_code == 200
    for url in ("/api/v1/metric/leads_created?grain=all&by=source",
                "/api/v1/metric/leads_created?grain=all&by=rep_id",
                "/api/v1/metric/leads_created?grain=all&by=rep.name",
                "/api/v1/metric/leads_created?grain=all&by=campaign.name",
                "/api/v1/dimensions/source/values"):
        assert world.get(url, "board").status_code == 200, url
    team = world.get("/team", "board")  # the leaderboard names reps: a viewer still sees it
    con = duckdb.connect(str(world.db), read_only=True)
    names = [n for (n,) in con.execute("SELECT name FROM reps").fetchall()]
    con.close()
    assert team.status_code == 200 and names
    assert all(name in team.text for name in names)


# ---- 4. answers are bounded -------------------------------------------------------------------
def test_an_answer_over_the_cap_is_refused_and_not_cached(world: World) -> None:
    app = create_app(world.db, max_rows=50)
    client = Client(app)
    try:
        url = "/api/v1/metric/leads_created?by=lead_id&by=source&grain=day"
        r = client.get(url, token=world.tokens["root"])
        assert r.status_code == 400
        assert "more than 50 rows" in r.json()["detail"]
        assert "narrow" in r.json()["detail"]
        assert not any("metric" in str(k) for k in app.state.source.cache._data)
        small = "/api/v1/metric/leads_created?by=source&grain=all"
        assert client.get(small, token=world.tokens["root"]).status_code == 200
    finally:
        client.close()
    assert create_app(world.db).state.source.max_rows == 100_000


# ---- 5. no 500 and no traceback for a user's input --------------------------------------------
@pytest.mark.parametrize("days", ["1e308", "1e18", "3651"])
def test_window_days_out_of_range_is_a_400(world: World, days: str) -> None:
    r = world.get(f"/api/v1/metric/lead_conversion_rate?param=window_days={days}")
    assert r.status_code == 400, r.text
    assert "window_days" in r.json()["detail"]


def test_a_repeated_dimension_is_one_split(world: World) -> None:
    r = world.get("/api/v1/metric/leads_created?grain=all&by=source&by=source")
    assert r.status_code == 200, r.text
    once = world.get("/api/v1/metric/leads_created?grain=all&by=source")
    assert r.json() == once.json()


def test_a_long_upload_name_is_a_400(world: World) -> None:
    r = world.client.post("/api/v1/ingest", token=world.tokens["root"],
                          files={"files": ("l" * 300 + ".csv", b"lead_id\n")})
    assert r.status_code == 400
    assert "255 bytes" in r.json()["detail"]


@pytest.mark.parametrize("args", [
    ["--start", "9999-12-31"],
    ["--end", "9999-12-31"],
    ["--start", "0001-01-01"],
    *(["--param", f"window_days={v}"] for v in ("nan", "inf", "1e308", "0", "-1")),
])
def test_cli_refuses_bad_input_in_one_line(world: World, args: list[str]) -> None:
    r = CliRunner().invoke(cli_app, ["metric", "lead_conversion_rate", *args,
                                     "--db", str(world.db)])
    assert r.exit_code == 1, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


@pytest.mark.parametrize("args", [["summary", "--as-of", "9999-12-31"],
                                  ["kpis", "--as-of", "9999-12-31"],
                                  ["funnel", "--start", "9999-12-31"],
                                  ["metric", "win_rate", "--end", "9998-12-31", "--grain",
                                   "week"]])
def test_cli_reports_refuse_an_out_of_range_date_in_one_line(world: World,
                                                             args: list[str]) -> None:
    r = CliRunner().invoke(cli_app, [*args, "--db", str(world.db)])
    assert r.exit_code == 1, r.output
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert "out of range" in r.output or "coarser grain" in r.output


# ---- safe by default: headers, and a busy workspace is a 503 without paths --------------------
def test_every_response_has_the_security_headers(world: World) -> None:
    for r in (world.get("/api/v1/me"), world.get("/api/v1/me", headers={"Host": "evil.example"}),
              world.client.get("/login")):
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "same-origin"


def test_a_workspace_locked_by_a_writer_is_a_503_without_paths(world: World) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(world.db)!r})\nprint('locked', flush=True)\n"
         "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        client = Client(create_app(world.db))  # nothing cached: every answer needs the file
        try:
            r = client.get("/api/v1/me", token=world.tokens["root"])
        finally:
            client.close()
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] == "1"
        assert "busy" in r.json()["detail"]
        assert str(world.db.parent) not in r.text and "PID" not in r.text
    finally:
        holder.kill()
        holder.wait()


def test_a_database_error_shows_no_sql_or_path(world: World) -> None:
    app = create_app(world.db)

    def boom() -> None:
        raise duckdb.ConversionException(
            f"Could not convert 'x' in SELECT * FROM leads at {world.db} (PID 4242)")

    app.add_api_route("/api/v1/boom", boom)
    client = Client(app)
    try:
        r = client.get("/api/v1/boom")
    finally:
        client.close()
    assert r.status_code == 400
    assert r.json()["detail"] == "the database could not run this query (ConversionException)"


# ---- 6. sessions end on logout and on token removal -------------------------------------------
def _login(client: Client, token: str) -> tuple[str, str]:
    """Log in through the form; returns (session cookie, csrf token)."""
    client.get("/login")
    csrf = client.cookies["fm_csrf"]
    r = client.post("/login", data={"token": token, "csrf_token": csrf, "next": "/"})
    assert r.status_code == 303, r.text
    return client.cookies["fm_session"], csrf


def test_a_logged_out_session_cookie_stops_working_at_once(world: World) -> None:
    client = Client(create_app(world.db, secret=b"k" * 32))
    try:
        cookie, csrf = _login(client, world.tokens["ana"])
        assert client.get("/api/v1/me").json()["name"] == "ana"
        # a cross-site logout (no CSRF token) is refused and the session keeps working
        assert client.post("/logout", data={}).status_code == 403
        assert client.get("/api/v1/me").status_code == 200
        assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
        # a copy of the cookie taken before logout (a stolen one) is dead too …
        r = client.get("/api/v1/me", headers={"Cookie": f"fm_session={cookie}"})
        assert r.status_code == 401
    finally:
        client.close()
    # … also for a second server on the same workspace and secret (a restart)
    again = Client(create_app(world.db, secret=b"k" * 32))
    try:
        r = again.get("/api/v1/me", headers={"Cookie": f"fm_session={cookie}"})
        assert r.status_code == 401
        fresh, _ = _login(again, world.tokens["ana"])  # logging in again works
        assert fresh != cookie and again.get("/api/v1/me").status_code == 200
    finally:
        again.close()


def test_removing_a_user_ends_its_token_and_sessions_while_serving(tmp_path: Path) -> None:
    db = tmp_path / "funnel.duckdb"
    tokens = build_workspace(db, leads=40)
    client = Client(create_app(db))
    try:
        _login(client, tokens["ana"])
        assert client.get("/api/v1/me").status_code == 200
        assert client.get("/api/v1/me", token=tokens["ana"]).status_code == 200
        result = CliRunner().invoke(cli_app, ["user", "remove", "ana", "--db", str(db)])
        assert result.exit_code == 0, result.output
        assert client.get("/api/v1/me").status_code == 401  # the session cookie
        assert client.get("/api/v1/me", token=tokens["ana"]).status_code == 401
        assert client.get("/api/v1/me", token=tokens["root"]).status_code == 200
    finally:
        client.close()


def test_a_tampered_session_cookie_is_no_session(world: World) -> None:
    client = Client(create_app(world.db))
    try:
        for bad in ("x", "a.b", "!!!.sig", "bm90|base64.deadbeef"):
            assert client.get("/api/v1/me", headers={"Cookie": f"fm_session={bad}"}
                              ).status_code == 401
    finally:
        client.close()


@pytest.mark.parametrize(("message", "shown"), [
    ("/srv/data/funnelmetrics.toml: timezone: unknown time zone 'X'",
     "funnelmetrics.toml: timezone: unknown time zone 'X'"),
    ("/tmp/funnelmetrics-upload-1-ab/leads.csv: not valid CSV (line 3)",
     "leads.csv: not valid CSV (line 3)"),
    ('IO Error: Could not set lock on file "/a/b/funnel.duckdb": Conflicting lock is held in '
     "/usr/bin/python3.12 (PID 4242) by user me",
     'IO Error: Could not set lock on file "funnel.duckdb": Conflicting lock is held in '
     "python3.12 by user me"),
    ("C:\\data\\crm\\leads.csv: bad row", "leads.csv: bad row"),
    ("Binder Error: no column x\nLINE 1: SELECT x FROM leads", "Binder Error: no column x"),
    ("unknown metric 'x'; see /api/v1/catalog", "unknown metric 'x'; see /api/v1/catalog"),
    ("window_days must be in (0, 3650]", "window_days must be in (0, 3650]"),
])
def test_public_messages_hide_server_paths_pids_and_sql(message: str, shown: str) -> None:
    from funnelmetrics.web.guard import public_message

    assert public_message(message) == shown


def test_a_user_error_naming_a_server_path_shows_only_the_file_name(world: World) -> None:
    from funnelmetrics.errors import ConfigError

    app = create_app(world.db)

    def bad_settings() -> None:
        raise ConfigError(f"{world.db.parent}/funnelmetrics.toml: timezone: unknown time zone")

    app.add_api_route("/api/v1/bad-settings", bad_settings)
    client = Client(app)
    try:
        r = client.get("/api/v1/bad-settings")
    finally:
        client.close()
    assert r.status_code == 400
    assert r.json()["detail"] == "funnelmetrics.toml: timezone: unknown time zone"


# ---- 7. eNPS of too few respondents -----------------------------------------------------------
NOTE = "fewer than 5 respondents: not shown (enps_min_respondents)"


def test_enps_of_fewer_than_five_respondents_is_null_with_a_note_everywhere(
        world: World) -> None:
    # the world's survey: its 4 reps answer once a month, so every group has 4 respondents
    for url in ("/api/v1/metric/enps?grain=quarter", "/api/v1/metric/enps?by=team",
                "/api/v1/metric/enps?where=team%3Deast"):
        rows = world.get(url).json()["rows"]
        answered = [r for r in rows if r["denominator"]]
        assert answered, url
        assert all(r["value"] is None and r["numerator"] is None and r["note"] == NOTE
                   for r in answered), url
    page = world.get("/team")
    assert page.status_code == 200 and NOTE in page.text
    out = CliRunner().invoke(cli_app, ["metric", "enps", "--grain", "quarter", "--db",
                                       str(world.db), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert NOTE in out.output and '"value": null' in out.output.replace('"value":null',
                                                                          '"value": null')


def test_enps_threshold_comes_from_the_workspace_settings(tmp_path: Path) -> None:
    db = tmp_path / "funnel.duckdb"
    tokens = build_workspace(db, leads=40)
    (tmp_path / "funnelmetrics.toml").write_text("enps_min_respondents = 4\n")
    client = Client(create_app(db))
    try:
        rows = client.get("/api/v1/metric/enps?grain=quarter", token=tokens["root"]).json()[
            "rows"]
    finally:
        client.close()
    answered = [r for r in rows if r["denominator"]]
    assert answered and all(r["value"] is not None and r["note"] is None for r in answered)


def test_an_upload_while_another_process_writes_is_a_503(world: World) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, time\n"
         f"con = duckdb.connect({str(world.db)!r})\nprint('locked', flush=True)\n"
         "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        client = Client(create_app(world.db, auth=False))
        try:
            r = client.post("/api/v1/ingest", files=UPLOAD)
        finally:
            client.close()
    finally:
        holder.kill()
        holder.wait()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "1"
    assert str(world.db.parent) not in r.text and "PID" not in r.text
