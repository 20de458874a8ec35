"""The `funnelmetrics` command: thin layer over the library (parse, call, render).

Each command group lives in its own module, `<group>_cmds.py`, and registers itself on `app`
when imported; every such module of this package is imported here, in name order. A command
module imports heavy libraries (pandas, Ibis, FastAPI, Plotly) inside its commands, never at
the top: `funnelmetrics --help` imports every command module.
"""

from __future__ import annotations

import importlib
import pkgutil

from funnelmetrics.cli.app import app, main

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmds")):
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["app", "main"]
