"""A review as one self-contained HTML page: inline CSS, charts as inline SVG, no script and no
external reference (it opens offline and is what the PDF is printed from). `@media print` keeps
tables whole and starts each section on a new page."""

from __future__ import annotations

from html import escape

from funnelmetrics.i18n.gettext import N_, gettext
from funnelmetrics.reports.cells import MISSING, format_cell, period_label, render_sentence
from funnelmetrics.reports.model import Review, Section, Table
from funnelmetrics.reports.svg import bar_chart

TITLES = {"month": N_("Monthly review: {period}"), "quarter": N_("Quarterly review: {period}"),
          "year": N_("Annual review: {period}")}
FILTERED = N_("Filtered by {where}.")
PREPARED = N_("Prepared on {date}; amounts in {currency}.")
CONTENTS = N_("Contents")
NUMERIC = {"count", "ratio", "currency", "days", "multiple", "score", "pp", "relative", "months",
           "currency_per_day", "number"}

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #1f6feb; --neg: #c2410c; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 980px; padding: 32px 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 32px 0 8px;
  border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); }
.meta { color: var(--muted); margin: 0 0 16px; }
.story { font-size: 15px; margin: 8px 0 12px; } .story p { margin: 0 0 6px; }
.missing { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 12px; }
nav ol { columns: 2; margin: 0 0 8px; padding-left: 20px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 12px; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #f0f4f8; font-weight: 600; } td:first-child { min-width: 10em; } td.num, th.num { text-align: right;
  font-variant-numeric: tabular-nums; white-space: nowrap; }
svg.chart { display: block; margin: 6px 0 12px; font-size: 11px; fill: var(--ink); }
svg .pos { fill: var(--accent); } svg .neg { fill: var(--neg); }
svg .axis { stroke: var(--muted); stroke-width: 1; } svg .chart-title { font-weight: 600; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11.5px; }
  section { break-before: page; } section:first-of-type { break-before: auto; }
  table, svg, .story { break-inside: avoid; } tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; } nav { display: none; }
}
"""


def render_html(review: Review, lang: str = "en") -> str:
    """The review as an HTML document in `lang` (en, id or ms)."""
    def t(msgid: str) -> str:
        return escape(gettext(msgid, lang))

    title = gettext(TITLES[review.kind], lang).format(period=period_label(review.period, lang))
    meta = gettext(PREPARED, lang).format(
        date=format_cell(review.created, "date", lang, review.currency),
        currency=review.currency)
    if review.where:
        meta += " " + gettext(FILTERED, lang).format(
            where=", ".join(f"{k} = {v}" for k, v in review.where.items()))
    out = [f'<!DOCTYPE html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
           f"<header><h1>{escape(title)}</h1><p class=\"meta\">{escape(meta)}</p></header>",
           f"<nav><h3>{t(CONTENTS)}</h3><ol>"]
    out += [f'<li><a href="#{s.key}">{t(s.title)}</a></li>' for s in review.sections]
    out.append("</ol></nav>")
    out += [_section(review, s, lang) for s in review.sections]
    out.append("</body></html>")
    return "\n".join(out)


def _section(review: Review, section: Section, lang: str) -> str:
    out = [f'<section id="{escape(section.key)}"><h2>{escape(gettext(section.title, lang))}</h2>']
    if section.missing:
        out.append(f'<p class="missing">{escape(gettext(section.missing, lang))}</p></section>')
        return "".join(out)
    story = [render_sentence(section, s, lang, review.currency) for s in section.sentences]
    out.append('<div class="story">' + "".join(f"<p>{escape(s)}</p>" for s in story) + "</div>")
    for chart in section.charts:
        table = section.table(chart.table)
        column = table.column(chart.value)
        out.append(bar_chart(
            [format_cell(r.get(chart.label), table.column(chart.label).unit_of(r), lang,
                         review.currency) for r in table.rows],
            [r.get(chart.value) for r in table.rows],
            [format_cell(r.get(chart.value), column.unit_of(r), lang, review.currency)
             for r in table.rows],
            gettext(chart.title, lang)))
    out += [_table(review, table, lang) for table in section.tables if table.rows]
    if section.notes:
        notes = [render_sentence(section, s, lang, review.currency) for s in section.notes]
        out.append("".join(f'<p class="note">{escape(n)}</p>' for n in notes))
    out.append("</section>")
    return "".join(out)


def _table(review: Review, table: Table, lang: str) -> str:
    numeric = {c.key: any(c.unit_of(r) in NUMERIC for r in table.rows) for c in table.columns}
    head = "".join(f'<th class="{"num" if numeric[c.key] else ""}">'
                   f"{escape(gettext(c.title, lang))}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        cells = []
        for c in table.columns:
            unit = c.unit_of(row)
            text = format_cell(row.get(c.key), unit, lang, review.currency)
            kind = "num" if unit in NUMERIC or text == MISSING else ""
            cells.append(f'<td class="{kind}">{escape(text)}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<h3>{escape(gettext(table.title, lang))}</h3><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
