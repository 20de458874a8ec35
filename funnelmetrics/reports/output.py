"""Writing a review to a file (html, pdf or xlsx), and the scheduled reviews of `[[reports]]`
that `funnelmetrics report --due` writes once their period has ended.

A file is written under a temporary name and renamed when complete, so a run that stops half
way leaves no file that a later `--due` would take as done; `--due` never rewrites a file that
exists (safe to run from cron every day)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from funnelmetrics.compile.time import Grain
from funnelmetrics.errors import QueryError
from funnelmetrics.i18n.ui import choose_lang
from funnelmetrics.insights.findings import Period, parse_period
from funnelmetrics.reports.model import Review

if TYPE_CHECKING:
    from funnelmetrics.config import ReportSchedule
    from funnelmetrics.workspace import Workspace

FORMATS = ("html", "pdf", "xlsx")
UNSAFE_IN_NAMES = re.compile(r"[^A-Za-z0-9._-]+")


def write_review(review: Review, path: Path, fmt: str, lang: str) -> Path:
    """Write the review as `fmt` in `lang` to `path` (complete or not at all)."""
    if fmt not in FORMATS:
        raise QueryError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    path = Path(path)
    if path.is_dir():
        raise QueryError(f"--output {path.name}: is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "html":
            from funnelmetrics.reports.html import render_html

            partial.write_text(render_html(review, lang), encoding="utf-8")
        elif fmt == "pdf":
            from funnelmetrics.reports.pdf import write_pdf

            write_pdf(review, partial, lang)
        else:
            from funnelmetrics.reports.xlsx import write_xlsx

            write_xlsx(review, partial, lang)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def file_name(period: Period, lang: str, fmt: str, where: dict[str, str]) -> str:
    """review-2026-Q1-id.pdf; a filter's values join the name, sanitised to [A-Za-z0-9._-]."""
    parts = ["review", period.label, lang, *(f"{k}-{v}" for k, v in sorted(where.items()))]
    stem = UNSAFE_IN_NAMES.sub("_", "-".join(parts)).strip("._") or "review"
    return f"{stem[:150]}.{fmt}"


@dataclass(frozen=True)
class Due:
    path: Path
    written: bool  # False: the file was already there


def due_reviews(ws: Workspace, *, today: dt.date | None = None,
                simulations: int = 2000) -> list[Due]:
    """Write each `[[reports]]` review of the period that has just ended (the last full month,
    quarter or year before `today`) unless its file exists; one build per (period, where)."""
    from funnelmetrics.reports.build import build_review

    today = today or _local_today(ws)
    folder_root = ws.directory or Path.cwd()
    built: dict[tuple[Period, tuple[tuple[str, str], ...]], Review] = {}
    out = []
    for schedule in ws.config.reports:
        period = parse_period(None, Grain(schedule.period), today)
        lang = choose_lang(schedule.lang, ws.config.locale)
        path = _folder(folder_root, schedule) / file_name(period, lang, schedule.format,
                                                          schedule.where)
        if path.exists():
            out.append(Due(path, written=False))
            continue
        key = (period, tuple(sorted(schedule.where.items())))
        if key not in built:
            built[key] = build_review(ws, period, where=schedule.where, simulations=simulations)
        out.append(Due(write_review(built[key], path, schedule.format, lang), written=True))
    return out


def _folder(root: Path, schedule: ReportSchedule) -> Path:
    folder = Path(schedule.folder).expanduser()
    return folder if folder.is_absolute() else root / folder


def _local_today(ws: Workspace) -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(ws.config.timezone)).date()
