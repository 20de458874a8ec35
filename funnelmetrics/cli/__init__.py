"""The `funnelmetrics` command: thin layer over the library (parse, call, render).

Each command group lives in its own module and registers itself on `app` when imported.
"""

from __future__ import annotations

from funnelmetrics.cli import (  # noqa: F401  (each registers its commands on `app`)
    attribution_cmds,
    demo_cmds,
    metric_cmds,
    revenue_cmds,
    serve_cmds,
    workspace_cmds,
)
from funnelmetrics.cli.app import app, main

__all__ = ["app", "main"]
