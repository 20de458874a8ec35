"""Build a review once per (period, where): every section asks its sources; a section whose
source is missing (a table the workspace lacks, a module not installed) or fails says so in the
document instead of stopping the review."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from funnelmetrics.compile.time import Grain
from funnelmetrics.errors import FunnelmetricsError, QueryError
from funnelmetrics.i18n.gettext import N_
from funnelmetrics.insights.findings import Period, parse_period
from funnelmetrics.reports import money, outlook, sales
from funnelmetrics.reports.model import Label, Review, Section, Sentence

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

log = logging.getLogger(__name__)

SECTIONS: list[tuple[str, str, Callable[..., Section]]] = [
    ("headline", N_("Headline KPIs"), sales.headline),
    ("funnel", N_("Funnel and bottlenecks"), sales.funnel),
    ("revenue", N_("Revenue"), money.revenue),
    ("marketing", N_("Marketing"), money.marketing),
    ("team", N_("The team"), sales.team),
    ("forecast", N_("Forecast"), outlook.forecast),
    ("targets", N_("KPI targets"), outlook.targets),
]
NOT_AVAILABLE = N_("Not available: this workspace has no data for this section.")
NOT_INSTALLED = N_("Not available yet in this version.")
NOTHING_TO_SAY = N_("Nothing in {period} changed enough to comment on: the figures are below.")


def review_period(text: str) -> Period:
    """`2026-03` (a month), `2026-Q1` (a quarter) or `2026` (a year)."""
    raw = str(text).strip()
    if len(raw) == 4 and raw.isdigit():
        grain = Grain.YEAR
    elif len(raw) == 7 and raw[4] == "-" and raw[5] in "Qq" and raw[6] in "1234":
        grain = Grain.QUARTER
    elif len(raw) == 7 and raw[4] == "-" and raw[5:].isdigit() and 1 <= int(raw[5:]) <= 12:
        grain = Grain.MONTH
    else:
        raise QueryError(f"--period {raw!r}: use a month (2026-03), a quarter (2026-Q1) or a "
                         "year (2026)")
    return parse_period(raw, grain)


def build_review(ws: Workspace, period: str | Period, *, where: dict[str, Any] | None = None,
                 simulations: int = 2000) -> Review:
    """The review of `period` (see `review_period`), filtered by `where` (DIM=VALUE) where the
    sources can be."""
    p = period if isinstance(period, Period) else review_period(period)
    where = {str(k): str(v) for k, v in (where or {}).items()}
    if where:
        ws.expr("leads_created", where=where)  # an unknown dimension is the user's one-line error
    sections = []
    for key, title, make in SECTIONS:  # each source batches its own queries
        options = {"simulations": simulations} if key == "forecast" else {}
        sections.append(_section(key, title, make, ws, p, where, **options))
    return Review(period=p, where=where, currency=ws.config.currency, sections=sections,
                  created=dt.date.today())


def _section(key: str, title: str, make: Callable[..., Section], ws: Workspace, period: Period,
             where: dict[str, str], **options: Any) -> Section:
    try:
        section = make(ws, period, where, **options)
    except ImportError:
        return Section(key, title, missing=NOT_INSTALLED)
    except (FunnelmetricsError, LookupError, ValueError, ArithmeticError) as exc:
        log.info("review section %s not available: %s", key, exc)
        return Section(key, title, missing=NOT_AVAILABLE)
    except Exception as exc:  # noqa: BLE001 — a table the workspace lacks (the engine's error)
        log.info("review section %s not available: %s", key, exc)
        return Section(key, title, missing=NOT_AVAILABLE)
    if section.missing is None and not any(t.rows for t in section.tables):
        section.missing = NOT_AVAILABLE
    if section.missing is None and not section.sentences:
        section.sentences.append(Sentence(NOTHING_TO_SAY, {"period": Label(period, "period")}))
    return section
