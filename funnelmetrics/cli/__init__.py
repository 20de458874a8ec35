"""The `funnelmetrics` command: thin layer over the library (parse, call, render).

Each command group lives in its own module and registers itself on `app`.
"""

from __future__ import annotations

from funnelmetrics.cli.app import app, main

# Command modules register their commands on import.
from funnelmetrics.cli import workspace_cmds as _workspace_cmds  # noqa: E402,F401  isort: skip
from funnelmetrics.cli import metric_cmds as _metric_cmds  # noqa: E402,F401  isort: skip

__all__ = ["app", "main"]
