"""The dashboard's overview computed right after a load, and kept (`web.kept`): the first server
started on the new data answers the overview at once, as a restarted one does, instead of
computing it (seconds on a large workspace) while the first visitor waits.

`demo` always prepares it; `ingest` does when a server has kept results for the workspace
before (it is served: the next start will want the new overview), or when asked with
`--prepare` (`--no-prepare`: never). The overview is what `serve`'s warm-up computes first, with
the default filters; it is kept under the state the load left — the file, the settings, the
code and the UTC day — so it is read only by a server on exactly that data.
"""

from __future__ import annotations

from pathlib import Path


def served_before(db: str | Path) -> bool:
    """Whether a server kept results for this workspace (any state of its data) before."""
    from funnelmetrics.compile.sqlcache import workspace_stamp
    from funnelmetrics.web import kept

    stamp = workspace_stamp(db)
    if stamp is None:
        return False
    path = kept._path((kept.FORMAT, stamp), "results")
    return path is not None and path.exists()


def prepare(db: str | Path, pages: tuple[str, ...] = ("overview",)) -> int:
    """Compute `pages` (their results) for the workspace as it is now and keep them; returns
    the results kept (0 for an engine's URL, or with the kept results turned off)."""
    from funnelmetrics.web import kept
    from funnelmetrics.web.source import Source
    from funnelmetrics.web.warm import warm

    source = Source(db)
    if source.is_url or kept.directory() is None:
        return 0
    warm(source, pages)
    return kept.save(source)
