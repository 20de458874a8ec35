"""The dashboard readable for a manager (issue 18): one palette keyed by value, period axes in
the page's language, outliers that do not flatten the rest, the funnel split as grouped bars
with its table following the split, tiles that say a filter does not apply (not the library's
message), "Split by" without ids, immature changes not judged, XLSX dates as dates."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from journeys import journeys
from openpyxl import load_workbook
from test_web_data import Client

from funnelmetrics import palette
from funnelmetrics.web import charts
from funnelmetrics.web.app import create_app
from funnelmetrics.web.exports import xlsx_bytes

# A web (SMB) lead Jan 1 → mql Jan 3 → sql Jan 5; B ads (Enterprise) Jan 10 → mql Jan 12;
# C web (SMB) Feb 3 → mql Feb 5 → sql Feb 6; D ads (SMB) Feb 10, nothing more.
EVENTS = {
    "A": [("lead", "2026-01-01"), ("mql", "2026-01-03"), ("sql", "2026-01-05")],
    "B": [("lead", "2026-01-10"), ("mql", "2026-01-12")],
    "C": [("lead", "2026-02-03"), ("mql", "2026-02-05"), ("sql", "2026-02-06")],
    "D": [("lead", "2026-02-10")],
}
RANGE = "start=2026-01-01&end=2026-03-31&grain=month&lang=en"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("readable")
    ws = journeys(path, EVENTS, leads={
        "A": {"source": "web", "segment": "SMB"}, "B": {"source": "ads", "segment": "Enterprise"},
        "C": {"source": "web", "segment": "SMB"}, "D": {"source": "ads", "segment": "SMB"}})
    ws.close()
    c = Client(create_app(str(path / "journeys.duckdb"), auth=False, warm=False))
    yield c
    c.close()


def charts_of(html: str) -> list[dict]:
    return [json.loads(m) for m in re.findall(
        r'<script type="application/json" id="[^"]+">(.*?)</script>', html, re.S)]


# ---- palette -----------------------------------------------------------------------------------
def test_palette_is_keyed_by_value_not_position():
    a = charts.lines([("paid_search", ["2026-01-01"], [1], None),
                      ("organic", ["2026-01-01"], [2], None)], unit="count")
    b = charts.lines([("organic", ["2026-01-01"], [2], None),
                      ("events", ["2026-01-01"], [3], None)], unit="count")
    colour = {t["name"]: t["marker"]["color"] for t in a["data"] + b["data"]}
    assert colour["organic"] == palette.color("organic") == palette.GREEN  # in both charts
    assert colour["paid_search"] == palette.ORANGE != colour["organic"]
    assert palette.color("some new channel") == palette.color("some new channel")
    assert palette.color("(unknown)") == palette.UNKNOWN


def test_hbars_colour_each_channel_and_cut_an_outlier():
    # 900 is more than 3× the next (100): the axis stops at 1.25 × 100 = 125, 900 written on it
    spec = charts.hbars(["paid_search", "organic", "email"], [900, 100, 40], unit="currency",
                        by_value=True, clip_note="axis cut", text=["$900", None, None])
    assert spec["layout"]["xaxis"]["range"] == [0, 125.0]
    assert spec["layout"]["annotations"][0]["text"] == "axis cut"
    assert spec["data"][0]["marker"]["color"] == [palette.ORANGE, palette.GREEN, palette.PURPLE]
    even = charts.hbars(["a", "b", "c"], [300, 100, 40], unit="count", clip_note="axis cut")
    assert "range" not in even["layout"]["xaxis"]  # 300 ≤ 3 × 100: nothing to cut
    assert charts.clipped_axis([None, 5, 0]) is None


def test_period_axis_in_the_page_language(client):
    html = client.get(f"/trends?{RANGE}&metric=leads_created".replace("lang=en", "lang=id")).text
    axes = [c["layout"].get("xaxis", {}) for c in charts_of(html)]
    ticks = [a for a in axes if a.get("tickmode") == "array"]
    assert ticks and ticks[0]["tickvals"] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert ticks[0]["ticktext"] == ["Jan 2026", "Feb 2026", "Mar 2026"]
    html = client.get(f"/trends?{RANGE}&metric=leads_created".replace("lang=en", "lang=ms")).text
    texts = [a["ticktext"] for c in charts_of(html)
             if (a := c["layout"].get("xaxis", {})).get("tickmode") == "array"]
    assert texts[0][1] == "Feb 2026"  # Malay: Februari → "Feb"


# ---- funnel split ------------------------------------------------------------------------------
def test_funnel_split_is_grouped_bars_and_the_table_follows(client):
    html = client.get(f"/funnel?{RANGE}&by=source").text
    specs = charts_of(html)
    assert not any(t["type"] == "funnel" for s in specs for t in s["data"])
    bars = specs[0]["data"]
    # web: A and C reached lead, mql and sql (2, 2, 2); ads: B and D lead (2), B mql (1)
    reached = {t["name"]: dict(zip(t["x"], t["y"], strict=True)) for t in bars}
    assert reached["web"]["sql"] == 2 and reached["ads"]["lead"] == 2
    assert reached["ads"]["mql"] == 1 and reached["ads"]["sql"] == 0
    assert bars[0]["marker"]["color"] == palette.color(bars[0]["name"])
    # the table has a row per segment and stage, and drop-off / time in stage a bar per segment
    assert html.count('<td class="">web</td>') == 5 and html.count('<td class="">ads</td>') == 5
    assert sum(1 for s in specs if {t["name"] for t in s["data"]} == {"web", "ads"}) == 3


# ---- tiles and split options -------------------------------------------------------------------
def test_a_filter_that_does_not_apply_says_so(client):
    html = client.get(f"/?{RANGE}&where=segment=SMB").text
    assert "unknown dimension" not in html
    assert "This filter or split does not apply to this figure" in html


def test_split_by_offers_no_ids(client):
    html = client.get(f"/?{RANGE}").text
    options = re.findall(r'<select name="by">(.*?)</select>', html, re.S)[0]
    offered = re.findall(r'<option value="([^"]*)"', options)
    assert "source" in offered and "segment" in offered
    assert not [o for o in offered if o.endswith("id")]


def test_immature_change_is_not_judged(client):
    from funnelmetrics.web import tiles
    from funnelmetrics.web.views.common import Filters
    from funnelmetrics.web.views.overview import tile_view

    f = Filters("month", dt.date(2026, 1, 1), dt.date(2026, 3, 31), {}, None, "en")
    tile = tiles.Tile("lead_conversion_rate", "Lead conversion rate", "ratio", value=0.1,
                      previous=0.5, change=-40.0, change_unit="pp", immature=True,
                      benchmark_status="below")
    shown = tile_view(f, tile)
    assert shown["change"] == "not yet comparable" and shown["better"] is None
    assert shown["benchmark"] == "immature" and shown["benchmark_text"] == "not yet comparable"
    mature = tile_view(f, tiles.Tile("win_rate", "Win rate", "ratio", value=0.1, previous=0.5,
                                     change=-40.0, change_unit="pp",
                                     benchmark_status="below"))
    assert mature["change"] == "▼ 40 pp" and mature["better"] is False  # 10% − 50%


# ---- exports -----------------------------------------------------------------------------------
def test_xlsx_writes_dates_as_dates():
    df = pd.DataFrame({"period_start": [dt.date(2026, 1, 1), dt.date(2026, 2, 1)],
                       "created_at": [pd.Timestamp("2026-01-05 13:30"), pd.NaT],
                       "value": [1.5, None], "partial": [False, True]})
    sheet = load_workbook(io.BytesIO(xlsx_bytes(df, "x"))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("period_start", "created_at", "value", "partial")
    assert rows[1] == (dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 5, 13, 30), 1.5, False)
    assert rows[2][0] == dt.datetime(2026, 2, 1) and rows[2][1] is None
    assert sheet["A2"].is_date and sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["B2"].number_format == "yyyy-mm-dd hh:mm:ss"


def test_marketing_is_one_metric_per_chart(client, tmp_path: Path):
    html = client.get(f"/marketing?{RANGE}").text
    assert "Traceback" not in html
    for spec in charts_of(html):
        kinds = {t.get("orientation") for t in spec["data"]}
        if kinds == {"h"}:  # a channel chart: one trace, a bar per channel
            assert len(spec["data"]) == 1


def test_overview_of_an_old_export_shows_its_last_full_periods(client):
    """The data's last event is D's lead on 2026-02-10 (before today's month): with no range
    given, the overview shows the twelve full months up to January 2026 and says why."""
    html = client.get("/?lang=en").text
    assert re.findall(r'name="end" value="([^"]+)"', html) == ["2026-01-31"]
    assert re.findall(r'name="start" value="([^"]+)"', html) == ["2025-02-01"]
    assert ("The data ends on Feb 10, 2026: the figures are for its last full periods, up to "
            "Jan 2026.") in html
    given = client.get(f"/?{RANGE}").text  # a range the user gives is kept, without the line
    assert "The data ends on" not in given
    assert re.findall(r'name="end" value="([^"]+)"', given) == ["2026-03-31"]
