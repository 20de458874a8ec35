"""Where funnelmetrics keeps what it can compute again: `~/.cache/funnelmetrics/<leaf>`
(`$XDG_CACHE_HOME` honoured), or the folder an environment variable names, or nothing when it
says `off`."""

from __future__ import annotations

import os
from pathlib import Path

OFF = ("off", "0", "false", "no")


def folder(env: str, leaf: str) -> Path | None:
    """The folder `$env` names, else the user's cache folder's `funnelmetrics/<leaf>`; None
    when `$env` is off."""
    value = os.environ.get(env, "")
    if value.lower() in OFF:
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "funnelmetrics" / leaf
