"""A review as PDF: the same self-contained HTML, printed by Debian's Chromium headless.

Why Chromium: the browser tests already use it (the Makefile installs it from Debian, no browser
download), it prints the HTML exactly as the HTML renderer wrote it — the inline SVG charts,
`@media print` and page breaks included — so there is one layout to keep, not a second one in a
PDF library; PyPI renderers (WeasyPrint, xhtml2pdf) need system libraries here or drop SVG.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from funnelmetrics.errors import ConfigError, FunnelmetricsError
from funnelmetrics.reports.html import render_html
from funnelmetrics.reports.model import Review

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_SECONDS = 120


def chromium() -> str:
    """The Chromium executable ($FUNNELMETRICS_CHROMIUM, else the first on PATH)."""
    named = os.environ.get("FUNNELMETRICS_CHROMIUM")
    if named:
        return named
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError("PDF needs Chromium: install it (apt-get install chromium) or write "
                      "--format html")


def write_pdf(review: Review, path: Path, lang: str = "en") -> Path:
    """Print the review's HTML to `path` (A4, backgrounds, no header or footer)."""
    browser = chromium()
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="funnelmetrics-review-") as tmp:
        page = Path(tmp) / "review.html"
        page.write_text(render_html(review, lang), encoding="utf-8")
        out = Path(tmp) / "review.pdf"
        command = [browser, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-pdf-header-footer",
                   "--run-all-compositor-stages-before-draw", f"--user-data-dir={tmp}/profile",
                   f"--print-to-pdf={out}", page.as_uri()]
        try:
            subprocess.run(command, check=False, capture_output=True, timeout=TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise FunnelmetricsError(f"Chromium could not print the review "
                                     f"({type(exc).__name__})") from None
        if not out.exists() or out.stat().st_size == 0:
            raise FunnelmetricsError("Chromium could not print the review (no PDF written)")
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), path)
    return path
