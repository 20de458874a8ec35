"""Reviews: the model on a hand-made workspace (figures worked out by hand) and on the demo
workspace (every section, every language: the narrative's figures are the tables')."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.gettext import gettext
from funnelmetrics.reports import build_review
from funnelmetrics.reports.build import review_period
from funnelmetrics.reports.cells import format_cell, mid_sentence, render_sentence
from funnelmetrics.reports.model import Label, Ref
from tests.journeys import journeys

LANGS = ("en", "id", "ms")

# Two months of a tiny funnel. January: leads A-D, one deal won and three lost (win rate 1/4);
# February: leads E-G, three won and one lost (3/4): +50 percentage points.
EVENTS = {
    "A": [("lead", "2026-01-02"), ("mql", "2026-01-05")],
    "B": [("lead", "2026-01-03"), ("mql", "2026-01-06"), ("sql", "2026-01-09")],
    "C": [("lead", "2026-01-04")],
    "D": [("lead", "2026-01-05")],
    "E": [("lead", "2026-02-02"), ("mql", "2026-02-03")],
    "F": [("lead", "2026-02-03")],
    "G": [("lead", "2026-02-04")],
}
CLOSED = [("2026-01-10", "won", 100), ("2026-01-11", "lost", 100), ("2026-01-12", "lost", 100),
          ("2026-01-13", "lost", 100), ("2026-02-10", "won", 300), ("2026-02-11", "won", 300),
          ("2026-02-12", "won", 600), ("2026-02-13", "lost", 100)]
OPPORTUNITIES = [dict(created_at="2026-01-01", status=status, closed_at=closed, amount=amount)
                 for closed, status, amount in CLOSED]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    ws = journeys(tmp_path_factory.mktemp("small"), EVENTS, opportunities=OPPORTUNITIES)
    yield ws, build_review(ws, "2026-02", simulations=200)
    ws.close()


def kpi(review, metric: str) -> dict:
    rows = review.sections[0].table("kpis").rows
    return next(r for r in rows if r["metric"] == metric)


@pytest.mark.parametrize(("text", "grain", "start"), [
    ("2026-03", "month", dt.date(2026, 3, 1)), ("2026-Q1", "quarter", dt.date(2026, 1, 1)),
    ("2026-q4", "quarter", dt.date(2026, 10, 1)), ("2026", "year", dt.date(2026, 1, 1))])
def test_review_period(text, grain, start):
    period = review_period(text)
    assert (period.grain.value, period.start) == (grain, start)


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26", "2026-03-01", "March", ""])
def test_a_wrong_period_is_one_line(text):
    with pytest.raises(QueryError, match="--period"):
        review_period(text)


def test_headline_figures_worked_out_by_hand(small):
    _, review = small
    win = kpi(review, "win_rate")
    assert win["value"] == pytest.approx(0.75) and win["previous"] == pytest.approx(0.25)
    assert win["change"] == pytest.approx(50.0) and win["change_unit"] == "pp"  # +50 pp
    leads = kpi(review, "leads_created")
    assert (leads["value"], leads["previous"]) == (3, 4)
    assert leads["change"] == pytest.approx(-0.25) and leads["change_unit"] == "relative"
    # no lead a year ago: a count of 0, and no relative change from 0 (null, not infinite)
    assert leads["last_year"] == 0 and leads["change_year"] is None
    size = kpi(review, "average_deal_size")  # (300 + 300 + 600) / 3 against 100 / 1
    assert (size["value"], size["previous"]) == (pytest.approx(400), pytest.approx(100))
    assert size["change"] == pytest.approx(3.0)


def test_change_reads_in_percentage_points_per_language(small):
    _, review = small
    assert format_cell(50.0, "pp", "en", "USD") == "+50.0 pp"
    assert format_cell(-0.25, "relative", "id", "USD") == "-25,0%"
    headline = review.sections[0]
    first = render_sentence(headline, headline.sentences[0], "en", "USD")
    # the sales cycle moved most: February's deals (opened 1 Jan) closed after 40, 41 and 42
    # days (median 41) against January's 9: (41 - 9) / 9 = +355.6 %, ahead of average deal size
    # (+300 %) and win rate (+50 pp, +0.5 as a share)
    assert kpi(review, "sales_cycle_days")["value"] == pytest.approx(41, abs=0.01)
    assert first == "Sales cycle (days) moved most in February 2026: 41, +355.6% against " \
        "January 2026."


def test_a_section_without_its_source_says_so(small):
    _, review = small
    sections = {s.key: s for s in review.sections}
    assert list(sections) == ["headline", "funnel", "revenue", "marketing", "team",
                              "forecast", "targets"]
    assert sections["revenue"].missing  # no subscriptions here: no MRR, not a table of zeros
    assert sections["targets"].missing  # no kpi_targets rows
    assert sections["headline"].missing is None
    for section in sections.values():  # a section with figures always opens with a sentence
        assert section.missing or section.sentences, section.key


def test_one_metric_that_cannot_answer_leaves_the_others(small, monkeypatch):
    from funnelmetrics.reports.figures import kpi_table

    ws, review = small
    asked = ws.metric

    def metric(metric_id, **query):
        if metric_id == "mrr":
            raise RuntimeError("Catalog Error: Table with name subscriptions does not exist")
        return asked(metric_id, **query)

    def metrics(*args, **kwargs):
        raise RuntimeError("Catalog Error: Table with name subscriptions does not exist")

    monkeypatch.setattr(ws, "metric", metric)
    monkeypatch.setattr(ws, "metrics", metrics)
    table, _ = kpi_table(ws, "kpis", "Headline KPIs", [("leads_created", {}), ("mrr", {})],
                         review.period, {})
    assert [(r["metric"], r["value"]) for r in table.rows] == [("leads_created", 3),
                                                                ("mrr", None)]


def test_the_funnel_table_is_the_catalogue(small):
    ws, review = small
    funnel = next(s for s in review.sections if s.key == "funnel").table("funnel")
    reached = {r["stage"]: r["reached"] for r in funnel.rows}
    assert reached["lead"] == 3 and reached["mql"] == 1  # E, F, G created; E reached mql


def test_unknown_where_dimension_is_the_users_error(small):
    ws, _ = small
    with pytest.raises(QueryError):
        build_review(ws, "2026-02", where={"no_such_dimension": "x"})


# ---- the demo workspace: every section ----------------------------------------------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from funnelmetrics.demo import build_demo

    ws, _ = build_demo(tmp_path_factory.mktemp("demo") / "demo.duckdb", leads=3000, months=18,
                       seed=7, end=dt.date(2026, 5, 10))
    yield ws, build_review(ws, "2026-Q1", simulations=500)
    ws.close()


def test_every_section_has_figures_and_a_story(demo):
    _, review = demo
    for section in review.sections:
        assert section.missing is None, section.key
        assert any(t.rows for t in section.tables), section.key
        assert 2 <= len(section.sentences) <= 3, section.key


def test_demo_headline_is_the_catalogue(demo):
    ws, review = demo
    df = ws.metric("leads_created", grain="quarter", start="2025-10-01", end="2026-03-31")
    values = dict(zip(df["period_start"], df["value"], strict=True))
    row = kpi(review, "leads_created")
    assert row["value"] == values[dt.date(2026, 1, 1)]
    assert row["previous"] == values[dt.date(2025, 10, 1)]


@pytest.mark.parametrize("lang", LANGS)
def test_narrative_figures_equal_the_tables(demo, lang):
    """Each figure of a sentence is its table cell formatted the same way, and the sentence is
    the translated template plus those figures: no number comes from anywhere else."""
    _, review = demo
    for section in review.sections:
        for sentence in section.sentences + section.notes:
            text = render_sentence(section, sentence, lang, review.currency)
            template = gettext(sentence.msgid, lang)
            assert lang == "en" or template != sentence.msgid, sentence.msgid
            shown = {}
            for name, arg in sentence.args.items():
                if isinstance(arg, Ref):
                    value, unit = section.cell(arg)
                    table = section.table(arg.table)
                    assert table.rows[arg.row][arg.column] == value
                    shown[name] = format_cell(value, unit, lang, review.currency)
                    if unit == "metric" and not template.startswith(f"{{{name}}}"):
                        shown[name] = mid_sentence(shown[name])  # "win rate", "MRR"
                else:
                    assert isinstance(arg, Label)
                    shown[name] = format_cell(arg.value, arg.unit, lang, review.currency)
                assert shown[name] in text, (name, shown[name], text)
            assert set(re.findall(r"\{(\w+)\}", template)) == set(shown)
            assert text == template.format(**shown)


# ---- rendered: HTML, XLSX, PDF -------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_html_is_self_contained_and_shows_the_narratives_cells(demo, lang):
    from html import escape

    from funnelmetrics.reports.html import render_html

    _, review = demo
    page = render_html(review, lang)
    assert "http" not in page.lower() and "<script" not in page and "<link" not in page
    assert "@media print" in page and "break-before: page" in page
    assert page.count("<svg") >= 3  # funnel, MRR waterfall, leaderboard
    for section in review.sections:
        assert f"<h2>{escape(gettext(section.title, lang))}</h2>" in page
        for sentence in section.sentences:
            assert escape(render_sentence(section, sentence, lang, review.currency)) in page
            for arg in sentence.args.values():
                if isinstance(arg, Ref):  # the figure is a cell of the table shown
                    value, unit = section.cell(arg)
                    cell = escape(format_cell(value, unit, lang, review.currency))
                    assert re.search(rf'<td class="[a-z]*">{re.escape(cell)}</td>', page), cell


def test_html_money_and_months_follow_the_language(demo):
    from funnelmetrics.reports.html import render_html

    _, review = demo
    assert "1st quarter 2026" in render_html(review, "en")
    assert "Kuartal ke-1 2026" in render_html(review, "id")
    assert "Suku pertama 2026" in render_html(review, "ms")
    assert re.search(r"US\$\d{1,3}(\.\d{3})*,\d\d", render_html(review, "id"))  # 1.234,56


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_has_a_sheet_per_section_with_real_numbers_and_dates(demo, lang, tmp_path):
    import openpyxl

    from funnelmetrics.reports.xlsx import write_xlsx

    _, review = demo
    path = write_xlsx(review, tmp_path / f"review-{lang}.xlsx", lang)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [gettext(s.title, lang)[:31] for s in review.sections]
    for section, sheet in zip(review.sections, wb.worksheets, strict=True):
        assert sheet.freeze_panes is not None, sheet.title
        numbers = [c for row in sheet.iter_rows() for c in row
                   if isinstance(c.value, int | float) and not isinstance(c.value, bool)]
        assert numbers and all(c.number_format != "General" for c in numbers), sheet.title
        header = sheet[int(sheet.freeze_panes[1:]) - 1]
        first = section.tables[0]
        assert [c.value for c in header][:len(first.columns)] == \
            [gettext(c.title, lang) for c in first.columns]
    revenue = wb.worksheets[2]
    dates = [c for row in revenue.iter_rows() for c in row if c.is_date]
    assert dates and all(c.number_format == "yyyy-mm-dd" for c in dates)
    waterfall = next(t for t in review.sections[2].tables if t.key == "waterfall")
    amounts = [c.value for row in revenue.iter_rows() for c in row
               if c.number_format.startswith('"')]
    assert waterfall.rows[0]["amount"] in amounts  # the MRR at start, as a number


def test_xlsx_neutralises_formulas_in_cells_and_headers(tmp_path):
    import openpyxl

    from funnelmetrics.insights.findings import parse_period
    from funnelmetrics.reports.model import Column, Review, Section, Sentence, Table
    from funnelmetrics.reports.xlsx import write_xlsx

    table = Table("t", "=HYPERLINK(\"x\")", [Column("rep", "@rep"), Column("won", "+won",
                                                                           "currency")],
                  [{"rep": "=1+1", "won": -5.0}, {"rep": "\tcmd", "won": 2.5}])
    section = Section("team", "-Team", tables=[table],
                      sentences=[Sentence("{rep} won {won}.",
                                          {"rep": Ref("t", 0, "rep"), "won": Ref("t", 0, "won")})])
    review = Review(parse_period("2026-03"), {}, "USD", [section], dt.date(2026, 4, 1))
    sheet = openpyxl.load_workbook(write_xlsx(review, tmp_path / "x.xlsx")).worksheets[0]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=1+1" in texts and "'@rep" in texts and "'+won" in texts
    assert "'=HYPERLINK(\"x\")" in texts
    assert [t for t in texts if t.endswith("cmd")] == ["'\tcmd"]  # quoted, not a formula
    assert not any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts)
    assert -5.0 in [c.value for row in sheet.iter_rows() for c in row]  # numbers stay numbers


def _ink(png_or_pgm: bytes) -> float:
    """Share of non-white pixels of a binary PGM (P5) image."""
    magic, width, height, maxval, data = png_or_pgm.split(maxsplit=4)
    assert magic == b"P5" and int(maxval) == 255
    pixels = data[: int(width) * int(height)]
    return sum(1 for b in pixels if b < 200) / len(pixels)


@pytest.mark.browser
def test_pdf_first_page_is_the_review(demo, tmp_path):
    import shutil
    import subprocess

    from funnelmetrics.reports.pdf import write_pdf

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing: apt-get install poppler-utils (make test does)")
    _, review = demo
    pdf = write_pdf(review, tmp_path / "review.pdf", "id")
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    ink = _ink((tmp_path / "page.pgm").read_bytes())
    assert 0.01 < ink < 0.6  # text and tables, not a blank (or black) page
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    assert "Tinjauan kuartalan: Kuartal ke-1 2026" in text and "KPI utama" in text


def test_pdf_without_chromium_is_one_line(demo, tmp_path, monkeypatch):
    from funnelmetrics.errors import ConfigError
    from funnelmetrics.reports.pdf import write_pdf

    monkeypatch.delenv("FUNNELMETRICS_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="PDF needs Chromium"):
        write_pdf(demo[1], tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize(("name", "inside"), [
    ("Win rate", "win rate"), ("MRR", "MRR"), ("eNPS (employee NPS)", "eNPS (employee NPS)"),
    ("Rata-rata nilai transaksi", "rata-rata nilai transaksi"), ("", "")])
def test_a_metric_name_inside_a_sentence(name, inside):
    assert mid_sentence(name) == inside


def test_a_part_that_cannot_take_the_filter_shows_the_whole_workspace_and_says_so():
    from funnelmetrics.reports.figures import NOT_FILTERED, with_filter
    from funnelmetrics.reports.model import Section

    section, asked = Section("team", "The team"), []

    def ask(where):
        asked.append(dict(where))
        if where:
            raise QueryError("unknown dimension 'segment' for quotas")
        return "whole"

    assert with_filter(section, "Leaderboard", {"segment": "SMB"}, ask) == "whole"
    assert asked == [{"segment": "SMB"}, {}]
    assert [(n.msgid, n.args["part"].value) for n in section.notes] == [(NOT_FILTERED,
                                                                         "Leaderboard")]
    assert render_sentence(section, section.notes[0], "ms", "MYR") == \
        "Tidak ditapis: angka “Papan pendahulu” adalah bagi seluruh ruang kerja."  # title translated
    assert with_filter(section, "Funnel", {"source": "web"}, lambda w: w) == {"source": "web"}
    assert len(section.notes) == 1  # a filter the part takes: no note


def test_periods_are_the_workspaces_time_zone(tmp_path):
    """20:00 UTC on 31 January is 03:00 on 1 February in Jakarta: a February lead there."""
    from funnelmetrics.reports.figures import kpi_table

    events = {"A": [("lead", "2026-01-31T20:00")], "B": [("lead", "2026-01-15")]}
    ws = journeys(tmp_path, events, timezone="Asia/Jakarta")
    try:
        table, partial = kpi_table(ws, "kpis", "Headline KPIs", [("leads_created", {})],
                                   review_period("2026-02"), {})
    finally:
        ws.close()
    assert (table.rows[0]["value"], table.rows[0]["previous"]) == (1, 1)
    assert partial is False


def test_a_period_not_over_is_flagged(small):
    from funnelmetrics.reports.figures import kpi_table

    ws, _ = small
    today = dt.date.today()
    _, partial = kpi_table(ws, "kpis", "Headline KPIs", [("leads_created", {})],
                           review_period(f"{today.year}-{today.month:02d}"), {})
    assert partial is True


def test_the_stories_pick_the_rows_they_name(demo):
    """The marketing sentence names the channel with the most linear credit (the table is
    sorted by another model); the team's, the rep with rank 1; the funnel's watch, the stage
    with the highest drop-off."""
    _, review = demo
    sections = {s.key: s for s in review.sections}
    marketing = sections["marketing"]
    first = marketing.sentences[0].args["amount"]
    rows = marketing.table("attribution").rows
    assert first.column == "linear"
    assert rows[first.row]["linear"] == max(r["linear"] for r in rows
                                            if not r["channel"].startswith("("))
    team = sections["team"].sentences[0].args["rep"]
    assert sections["team"].table("leaderboard").rows[team.row]["rank"] == 1
    funnel = sections["funnel"]
    watch = funnel.sentences[-1].args["drop_off"]
    drops = [r["drop_off"] for r in funnel.table("funnel").rows if r["drop_off"] is not None]
    assert funnel.table("funnel").rows[watch.row]["drop_off"] == max(drops)
