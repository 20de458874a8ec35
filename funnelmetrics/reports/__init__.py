"""Reviews: the monthly, quarterly and annual review of a workspace, written in en, id or ms.

`build_review(ws, "2026-Q1")` asks the catalogue, the revenue and attribution reports, insights
and forecasts once and keeps their figures in a language-neutral `Review` (sections → tables,
charts, narrative); `render_html`, `write_pdf` and `write_xlsx` present it in a language. No
figure is computed here: tables hold the sources' values, the narrative points at table cells.
"""

from __future__ import annotations

from funnelmetrics.reports.build import build_review
from funnelmetrics.reports.model import Review

__all__ = ["Review", "build_review"]
