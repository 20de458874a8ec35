"""Cache warming: compute the dashboard's default pages at startup and again whenever the
workspace file changes (a nightly `funnelmetrics ingest`), so the morning's first visit is served
from cache.

The warmer holds a read-only connection only while it computes; a write from another process
during that time waits for it (DuckDB's file lock), as it would for any request.
"""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace

from starlette.datastructures import QueryParams

from funnelmetrics.web import kept
from funnelmetrics.web.auth import LOCAL, Principal
from funnelmetrics.web.source import Source
from funnelmetrics.web.tiles import data_ended, default_range
from funnelmetrics.web.views.common import Filters, data_end_of, split_dimensions

log = logging.getLogger("funnelmetrics.web")


def warm(source: Source, pages: tuple[str, ...] | None = None) -> None:
    """Every dashboard page's figures for the whole workspace with the default filters (what
    admins and viewers open first; other filters reuse many of the same results). Each page has
    its own short session, so a writer waits at most for one page."""
    from funnelmetrics.web.pages import BUILDERS

    config = source.config()
    with source.session() as session:  # data ending before this month: its own last months
        ended = data_end_of(session)
    start, end = default_range("month", data_end=ended)
    request = SimpleNamespace(query_params=QueryParams(""),
                              app=SimpleNamespace(state=SimpleNamespace(source=source)))
    for name, build in BUILDERS.items():
        if pages is not None and name not in pages:
            continue
        f = Filters(grain="month", start=start, end=end, where={}, by=None,
                    lang=config.locale if config.locale in ("en", "id", "ms") else "en",
                    currency=config.currency,
                    data_ended=ended if data_ended("month", ended) else None)
        try:
            with source.session() as session, session.batch():
                split_dimensions(session)  # the filter bar's choices, on every page
                build(session, Principal(LOCAL), f, request)
        except Exception as exc:  # one page failing must not stop the others
            log.warning("cache warm-up of %s failed: %s", name, exc)


class Warmer:
    """A daemon thread that first reads what a previous server kept for this very data
    (`web.kept`), then — with `warm` — re-warms the cache after every change of the workspace
    file, keeping what it computed for the next server."""

    def __init__(self, source: Source, *, every: float = 5.0,
                 pages: tuple[str, ...] | None = None, warm: bool = True) -> None:
        self.source = source
        self.every = every
        self.pages = pages
        self.warm = warm
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="funnelmetrics-warmer",
                                        daemon=True)
        self.warmed: tuple[int, ...] | None = None
        self.read = threading.Event()  # set once the kept results are read (or none were)

    def start(self) -> None:
        self.source.kept_read = self.read  # the source's misses wait for what is kept
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            if not self.source.is_url:
                kept.load(self.source, "results")
        except Exception as exc:  # what was kept is a help, never a reason to stop
            log.warning("kept results not read: %s", exc)
        finally:
            self.read.set()
        while self.warm and not self._stop.is_set():
            version = self.source.version()
            if version != self.warmed:
                try:
                    warm(self.source, self.pages)
                    if not self.source.is_url:
                        kept.save(self.source)
                except Exception as exc:  # a warm-up failure must never stop the server
                    log.warning("cache warm-up failed: %s", exc)
                self.warmed = version
            self._stop.wait(self.every)
