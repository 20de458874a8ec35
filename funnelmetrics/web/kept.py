"""Results kept across restarts of the server: a restarted `serve` on an unchanged workspace
answers the pages and figures the previous server computed, at once, without a warm-up.

What is kept, per DuckDB workspace file, under `~/.cache/funnelmetrics/results`
(`FUNNELMETRICS_RESULT_CACHE`: another folder, or `off`):
- `<id>.pages`: the rendered dashboard pages (`Page`: HTML bytes split where each browser's CSRF
  token goes, so no token is ever kept), read when the server starts (they need no pandas);
- `<id>.results`: the computed results the pages and the API are built from (metric frames, the
  funnel, the forecast…), read by a background thread right after the server starts.

Each file holds the state it was written for — the workspace file's size and modification time
(and its write-ahead log's), the settings file's bytes, the code (`sqlcache.code_stamp`) and the
UTC day (a result may depend on today: partial periods, default ranges) — and is read only when
all four are the same now; anything else is a cold start, as without it. The users' credentials
are never written. The files are written when a warm-up ends and when the server stops.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import pickle
import tempfile
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from funnelmetrics.cachedir import folder

# `Source` and `ResultCache` (web/source.py, which reads what is kept here when it starts) are
# named by their duck type, so this module imports nothing of the server's.
Source = Any

ENV = "FUNNELMETRICS_RESULT_CACHE"
FORMAT = 1
SECRET = frozenset({"users"})  # result keys never written (the users' token hashes)
log = logging.getLogger("funnelmetrics.web")


def directory() -> Path | None:
    return folder(ENV, "results")


def _state(source: Source) -> tuple[Any, ...] | None:
    """What the kept results hold for: None when nothing can be kept (an engine's URL)."""
    from funnelmetrics.compile.sqlcache import workspace_stamp

    stamp = workspace_stamp(source.path) if not source.is_url else None
    if stamp is None:
        return None
    return (FORMAT, stamp, source.version(), dt.datetime.now(dt.UTC).date().isoformat())


def _path(state: tuple[Any, ...], kind: str) -> Path | None:
    folder = directory()
    if folder is None:
        return None
    name = hashlib.sha256(state[1].encode()).hexdigest()[:32]
    return folder / f"{name}.{kind}"


def _keepable(key: Hashable) -> bool:
    return not (isinstance(key, tuple) and key and key[0] in SECRET)


def save(source: Source) -> int:
    """Write what the caches hold for the workspace as it is now; returns the entries written."""
    state = _state(source)
    if state is None:
        return 0
    written = 0
    for kind, cache, wanted in (("pages", source.bodies, _is_page),
                                ("results", source.cache, _keepable)):
        path = _path(state, kind)
        if path is None:
            return 0
        entries = {}
        for (version, key), value in cache.items():
            if version != state[2] or not wanted(key):
                continue
            try:  # each entry alone: one that cannot be pickled is left out, not the rest
                entries[pickle.dumps(key)] = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - a lambda, a lock, an open handle…
                continue
        if not entries:
            continue
        _write(path, pickle.dumps((state, entries), pickle.HIGHEST_PROTOCOL))
        written += len(entries)
    return written


def _is_page(key: Hashable) -> bool:
    """A rendered page (its key names the page and user); JSON bodies are keyed by the id of
    their result in this process, so they are not kept (re-encoding one takes milliseconds)."""
    return isinstance(key, tuple) and bool(key) and key[0] == "html"


def load(source: Source, kind: str) -> int:
    """Fill one of the source's caches (`pages` or `results`) from what was kept for the
    workspace as it is now; returns the entries read (0: nothing kept, or kept for another
    state of the data, settings, code or day)."""
    state = _state(source)
    path = _path(state, kind) if state is not None else None
    if path is None or state is None:
        return 0
    try:
        kept_state, entries = pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return 0
    except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is a cold start
        log.warning("kept %s of %s not read: %s", kind, source.path, exc)
        return 0
    if kept_state != state:
        return 0
    cache = source.bodies if kind == "pages" else source.cache
    read = 0
    for key, value in entries.items():
        try:
            cache.put((state[2], pickle.loads(key)), pickle.loads(value))
            read += 1
        except Exception:  # noqa: BLE001 - a class that changed shape: that entry is a miss
            continue
    return read


def _write(path: Path, data: bytes) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home, a full disk: the server goes on without
        log.warning("results not kept in %s: %s", path.parent, exc)
