"""The KPI summary (`funnelmetrics.summary`, `funnelmetrics summary`): the last full period
against the one before unless the current, partial one is asked for; a rate's change in
percentage points. Expected values are worked out by hand beside each assert (instants UTC)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from journeys import journeys
from typer.testing import CliRunner

from funnelmetrics.cli import app
from funnelmetrics.summary import Headline, change, kpi_summary, shown_period

# Leads created: Jan A B C D (4), Feb E F (2), Mar G H I (3, all by Mar 4).
# Opportunities closed: Jan O1 won, O2–O4 lost → win rate 1/4 = 25 %;
#                       Feb O5–O7 won, O8 lost → 3/4 = 75 %; Mar (by Mar 10) O9 won → 1/1 = 100 %.
EVENTS = {
    "A": [("lead", "2026-01-02"), ("mql", "2026-01-03")],
    "B": [("lead", "2026-01-05")],
    "C": [("lead", "2026-01-10")],
    "D": [("lead", "2026-01-20")],
    "E": [("lead", "2026-02-10"), ("mql", "2026-02-11")],
    "F": [("lead", "2026-02-20")],
    "G": [("lead", "2026-03-02")],
    "H": [("lead", "2026-03-03")],
    "I": [("lead", "2026-03-04")],
}
CLOSED = [("2026-01-05", "won"), ("2026-01-06", "lost"), ("2026-01-07", "lost"),
          ("2026-01-08", "lost"), ("2026-02-05", "won"), ("2026-02-06", "won"),
          ("2026-02-07", "won"), ("2026-02-08", "lost"), ("2026-03-10", "won")]
OPPORTUNITIES = [dict(created_at="2026-01-01", status=status, closed_at=closed, amount=100)
                 for closed, status in CLOSED]
AS_OF = "2026-03-15"


@pytest.fixture
def ws(tmp_path):
    ws = journeys(tmp_path, EVENTS, opportunities=OPPORTUNITIES)
    yield ws
    ws.close()


@pytest.fixture
def db(tmp_path):
    journeys(tmp_path, EVENTS, opportunities=OPPORTUNITIES).close()
    return str(tmp_path / "journeys.duckdb")


def by_metric(rows: list[Headline]) -> dict[str, Headline]:
    return {h.metric: h for h in rows}


# ---- the change: a presentation of two catalogue values ----------------------------------------
@pytest.mark.parametrize(("value", "previous", "unit", "expected", "kind"), [
    (120.0, 100.0, "count", 0.2, "relative"),  # (120 − 100) / 100
    (80.0, 100.0, "currency", -0.2, "relative"),  # (80 − 100) / 100
    (-5.0, -10.0, "score", 0.5, "relative"),  # (−5 − (−10)) / |−10|
    (3.0, 0.0, "count", None, "relative"),  # from 0: no relative change
    (3.6, 3.0, "multiple", 0.2, "relative"),  # LTV:CAC 3.0× → 3.6×: a multiple, not a rate
    (0.42, 0.40, "ratio", 2.0, "pp"),  # 40 % → 42 %: +2 percentage points (not +5 %)
    (0.25, 0.75, "ratio", -50.0, "pp"),  # 75 % → 25 %: −50 pp
    (0.10, 0.0, "ratio", 10.0, "pp"),  # 0 % → 10 %: +10 pp (a rate's change from 0 exists)
    (None, 0.5, "ratio", None, "pp"),
    (0.5, None, "count", None, "relative"),
])
def test_change(value, previous, unit, expected, kind):
    head = Headline("m", "M", unit, dt.date(2026, 2, 1), value, previous)
    assert head.change_unit == kind
    if expected is None:
        assert head.change is None and change(value, previous, unit) is None
    else:
        assert head.change == pytest.approx(expected)


# ---- which period ------------------------------------------------------------------------------
@pytest.mark.parametrize(("partial", "include_partial", "expected"), [
    ([False, False, True, True], False, 1),  # the last full period
    ([False, False, True, True], True, 2),  # the current one: the first partial (3 not begun)
    ([False, False], True, 1),  # nothing partial: the last
    ([True, True], False, 1),  # nothing full: the last (flagged partial)
    ([True], False, 0),
])
def test_shown_period(partial, include_partial, expected):
    assert shown_period(partial, include_partial) == expected


def test_the_last_full_period_by_default(ws):
    rows = by_metric(kpi_summary(ws, "month", as_of=AS_OF))
    leads, win = rows["leads_created"], rows["win_rate"]
    # as of Mar 15, March is not over: February (full) against January
    assert leads.period == dt.date(2026, 2, 1) and leads.partial is False
    assert (leads.value, leads.previous) == (2, 4)  # E F against A B C D
    assert leads.change == pytest.approx(-0.5)  # (2 − 4) / 4
    assert (win.value, win.previous) == (0.75, 0.25)
    assert win.change == pytest.approx(50.0) and win.change_unit == "pp"  # 75 % − 25 %
    assert win.immature is False  # not a cohort metric
    # a cohort metric: February's leads are still inside their 180-day window on Mar 15
    assert rows["lead_conversion_rate"].immature is True
    assert rows["lead_conversion_rate"].partial is False


def test_the_current_partial_period_when_asked(ws):
    rows = by_metric(kpi_summary(ws, "month", as_of=AS_OF, include_partial=True))
    leads, win = rows["leads_created"], rows["win_rate"]
    assert leads.period == dt.date(2026, 3, 1) and leads.partial is True
    assert (leads.value, leads.previous) == (3, 2)  # G H I against E F
    assert leads.change == pytest.approx(0.5)  # (3 − 2) / 2
    assert (win.value, win.previous) == (1.0, 0.75)  # O9 against O5–O8
    assert win.change == pytest.approx(25.0)  # 100 % − 75 %
    assert rows["lead_conversion_rate"].immature is True


def test_as_of_exactly_at_a_period_boundary(ws):
    # Mar 1 00:00: February has just ended (full); March has just begun (partial, no leads yet)
    rows = by_metric(kpi_summary(ws, "month", as_of="2026-03-01"))
    assert rows["leads_created"].period == dt.date(2026, 2, 1)
    assert rows["leads_created"].partial is False
    rows = by_metric(kpi_summary(ws, "month", as_of="2026-03-01", include_partial=True))
    assert rows["leads_created"].period == dt.date(2026, 3, 1)
    assert (rows["leads_created"].value, rows["leads_created"].partial) == (0, True)
    # one second earlier, February is the current period: January is the last full one
    rows = by_metric(kpi_summary(ws, "month", as_of="2026-02-28T23:59:59"))
    assert rows["leads_created"].period == dt.date(2026, 1, 1)
    assert (rows["leads_created"].value, rows["leads_created"].previous) == (4, 0)


def test_periods_are_the_workspace_time_zone(tmp_path):
    """Jakarta (UTC+7): as of Mar 1 local midnight (Feb 28 17:00 UTC) February is over there,
    so it is the last full month — not January, as the UTC date (Feb 28) would say."""
    ws = journeys(tmp_path, EVENTS, opportunities=OPPORTUNITIES, timezone="Asia/Jakarta")
    try:
        rows = by_metric(kpi_summary(ws, "month", as_of="2026-03-01"))
    finally:
        ws.close()
    assert rows["leads_created"].period == dt.date(2026, 2, 1)
    assert rows["leads_created"].partial is False
    assert (rows["leads_created"].value, rows["leads_created"].previous) == (2, 4)


# ---- the command -------------------------------------------------------------------------------
def run(*args: str):
    result = CliRunner().invoke(app, ["summary", *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout


def test_summary_json_flags_partial_and_immature(db):
    month, quarter = (json.loads(line) for line in
                      run("--db", db, "--as-of", AS_OF, "--format", "json").splitlines())
    assert (month["grain"], month["period_start"]) == ("month", "2026-02-01")
    assert (quarter["grain"], quarter["period_start"]) == ("quarter", "2025-10-01")  # Q4 2025
    rows = {r["metric"]: r for r in month["rows"]}
    assert list(rows["win_rate"]) == ["metric", "unit", "value", "previous", "change",
                                      "change_unit", "immature", "partial"]
    assert rows["win_rate"]["change"] == pytest.approx(50.0)
    assert rows["win_rate"]["change_unit"] == "pp"
    assert rows["leads_created"]["change"] == pytest.approx(-0.5)
    assert rows["leads_created"]["change_unit"] == "relative"
    assert rows["lead_conversion_rate"]["immature"] is True
    assert all(r["partial"] is False for r in month["rows"] + quarter["rows"])

    month, quarter = (json.loads(line) for line in run(
        "--db", db, "--as-of", AS_OF, "--format", "json", "--include-partial").splitlines())
    assert (month["period_start"], quarter["period_start"]) == ("2026-03-01", "2026-01-01")
    assert all(r["partial"] is True for r in month["rows"] + quarter["rows"])
    rows = {r["metric"]: r for r in quarter["rows"]}
    # Q1 2026 so far: 9 leads against none in Q4 2025 (no relative change from 0)
    assert (rows["leads_created"]["value"], rows["leads_created"]["change"]) == (9, None)


def test_summary_csv_is_one_table(db):
    rows = list(csv.DictReader(io.StringIO(run("--db", db, "--as-of", AS_OF, "--format", "csv"))))
    assert list(rows[0])[-4:] == ["change", "change_unit", "immature", "partial"]
    win = next(r for r in rows if r["grain"] == "month" and r["metric"] == "win_rate")
    assert (win["period_start"], win["value"], win["previous"], win["partial"]) == (
        "2026-02-01", "0.75", "0.25", "false")


def test_summary_table_marks_the_partial_period_and_pp(db):
    out = run("--db", db, "--as-of", AS_OF)
    assert "KPI summary" in out and "Month" in out and "vs prior" in out
    assert "2026-02" in out and "*" not in out  # the last full month: nothing partial
    assert "▲ 50 pp" in out  # win rate 25 % → 75 %
    assert "▼ 50.0%" in out  # leads 4 → 2
    assert "† cohort younger than its conversion window" in out
    assert "pp = percentage points" in out
    out = run("--db", db, "--as-of", AS_OF, "--include-partial", "--lang", "id")
    assert "Ringkasan KPI" in out and "Bulan" in out and "Kuartal" in out
    assert "2026-03 *" in out and "2026-Q1 *" in out  # the current month and quarter
    assert "▲ 25 pp" in out  # 75 % → 100 %
    assert "* periode belum berakhir: angkanya masih dapat berubah" in out
    assert "pp = poin persentase" in out


# ---- the dashboard's tiles compare the same way ------------------------------------------------
def win_rates(partial: list[bool]):
    """Win rate by month as `ws.metric` gives it: Jan 1/4, Feb 3/4, Mar 1/1 (as above)."""
    import pandas as pd

    return pd.DataFrame({
        "period_start": [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)],
        "value": [0.25, 0.75, 1.0], "numerator": [1.0, 3.0, 1.0],
        "denominator": [4.0, 4.0, 1.0], "partial": partial})


def test_tiles_compare_the_last_full_period_unless_asked():
    from funnelmetrics import catalog
    from funnelmetrics.web.tiles import Tile, _fill

    metric = catalog.get("win_rate")
    tile = Tile("win_rate", "Win rate", "ratio")
    _fill(tile, metric, win_rates([False, False, True]))  # March not over yet
    assert (tile.period_start, tile.value, tile.previous) == (dt.date(2026, 2, 1), 0.75, 0.25)
    assert tile.change == pytest.approx(50.0) and tile.change_unit == "pp"
    assert tile.partial is False
    assert [p["partial"] for p in tile.sparkline] == [False, False, True]  # March still drawn
    tile = Tile("win_rate", "Win rate", "ratio")
    _fill(tile, metric, win_rates([False, False, True]), include_partial=True)
    assert (tile.period_start, tile.value, tile.previous) == (dt.date(2026, 3, 1), 1.0, 0.75)
    assert tile.change == pytest.approx(25.0) and tile.partial is True
    tile = Tile("win_rate", "Win rate", "ratio")
    _fill(tile, metric, win_rates([False, False, False]))  # all over: the last one
    assert (tile.period_start, tile.partial) == (dt.date(2026, 3, 1), False)


def test_tile_view_shows_pp_and_the_partial_period():
    from funnelmetrics import catalog
    from funnelmetrics.web.tiles import Tile, _fill
    from funnelmetrics.web.views.common import Filters
    from funnelmetrics.web.views.overview import tile_view

    f = Filters(grain="month", start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31), where={},
                by=None, lang="ms")
    tile = Tile("win_rate", "Win rate", "ratio")
    _fill(tile, catalog.get("win_rate"), win_rates([False, False, True]), include_partial=True)
    view = tile_view(f, tile)
    assert view["change"] == "▲ 25 pp"  # 75 % → 100 %
    assert view["change_note"].startswith("pp = mata peratusan")
    assert view["partial"] == "tempoh belum tamat"
    assert view["spark"] and view["spark_partial"]  # solid Jan–Feb, dashed Feb–Mar
    assert view["spark_partial"].split()[0] == view["spark"].split()[-1]


@pytest.mark.parametrize(("args", "message"), [
    (["--lang", "fr"], "--lang"),
    (["--as-of", "yesterday"], "--as-of"),
])
def test_summary_mistakes_are_one_line(db, args, message):
    result = CliRunner().invoke(app, ["summary", "--db", db, *args])
    assert result.exit_code == 1 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


# ---- data that ends before today: its own last full period -------------------------------------
def test_data_end_is_the_last_event_day(ws):
    from funnelmetrics.summary import data_end

    # leads by Mar 4, stage events by Mar 4, deals closed by Mar 10 (O9): Mar 10
    assert data_end(ws) == dt.date(2026, 3, 10)


def test_default_instant_of_an_old_export(ws):
    from funnelmetrics.summary import default_instant, last_full_period

    # today (Dec 2026 or later) is past March 2026: seen as of Mar 11, whose last full month
    # is February and last full quarter Q4 2025
    seen = default_instant(ws, "month")
    assert (seen.as_of, seen.ended) == ("2026-03-11", dt.date(2026, 3, 10))
    assert last_full_period(ws, "month", seen.as_of) == (dt.date(2026, 2, 1),
                                                         dt.date(2026, 2, 28))
    assert last_full_period(ws, "quarter", seen.as_of) == (dt.date(2025, 10, 1),
                                                           dt.date(2025, 12, 31))
    # an as-of the user gives is kept as it is
    assert default_instant(ws, "month", "2026-02-15").as_of == "2026-02-15"
    assert default_instant(ws, "month", "2026-02-15").ended is None


def test_current_data_is_seen_now(tmp_path):
    from funnelmetrics.summary import default_instant

    today = dt.datetime.now(dt.UTC).date()
    ws = journeys(tmp_path, {"A": [("lead", today.isoformat())]})
    try:
        assert default_instant(ws, "month") == default_instant(ws, "month", None)
        assert default_instant(ws, "month").as_of is None  # data this month: now
    finally:
        ws.close()


def test_empty_workspace_has_no_data_end(tmp_path):
    import funnelmetrics
    from funnelmetrics.summary import data_end, default_instant

    with funnelmetrics.open(tmp_path / "empty.duckdb") as ws:
        assert data_end(ws) is None
        assert default_instant(ws, "month").as_of is None


def test_summary_of_an_old_export_says_so(db):
    out = run("--db", db)
    assert "The data ends on 2026-03-10" in out and "as of 2026-03-11" in out
    assert "2026-02" in out  # the last full month of the data, not an empty November
    assert "▲ 50 pp" in out  # February's win rate 75 % against January's 25 %
    month = json.loads(run("--db", db, "--format", "json").splitlines()[0])
    assert month["period_start"] == "2026-02-01"


def test_immature_change_is_not_yet_comparable(db):
    out = run("--db", db, "--as-of", AS_OF)
    # lead conversion of February's cohort is inside its window (†): no arrow, no verdict
    line = next(line for line in out.splitlines() if "Lead conversion" in line)
    assert "not yet" in line and "▲" not in line and "▼" not in line


def test_overview_api_of_an_old_export_shows_the_datas_last_full_months(db):
    """GET /api/v1/overview without dates: the data's own last full month (February), as the
    Overview page and `summary` show it, and `data_ended` says why; with dates, null."""
    from test_web_data import Client

    from funnelmetrics.web.app import create_app

    client = Client(create_app(db, auth=False))
    try:
        body = client.get("/api/v1/overview").json()
        assert body["data_ended"] == "2026-03-10"
        assert body["end"] == "2026-02-28"
        win = next(t for t in body["tiles"] if t["metric"] == "win_rate")
        assert win["period_start"] == "2026-02-01"
        assert win["value"] == pytest.approx(0.75)  # February's win rate (see the summary test)
        given = client.get("/api/v1/overview?start=2026-01-01&end=2026-02-28").json()
        assert given["data_ended"] is None and given["end"] == "2026-02-28"
    finally:
        client.close()
