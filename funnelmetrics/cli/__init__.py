"""The `funnelmetrics` command: thin layer over the library (parse, call, render).

Each command group lives in its own module and registers itself on `app` when imported.
"""

from __future__ import annotations

import importlib

from funnelmetrics.cli.app import app, main

COMMAND_MODULES = ("workspace_cmds", "metric_cmds", "demo_cmds", "revenue_cmds",
                   "attribution_cmds", "serve_cmds")

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(f"funnelmetrics.cli.{_name}")
    except ModuleNotFoundError as _exc:  # a command group not built yet
        if _exc.name != f"funnelmetrics.cli.{_name}":
            raise

__all__ = ["app", "main"]
