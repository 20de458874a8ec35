"""funnelmetrics: sales- and marketing-funnel metrics you can trust, from CRM, marketing and billing data."""

from __future__ import annotations

from typing import Any

from funnelmetrics.config import Config, Funnel, Mode
from funnelmetrics.errors import ConfigError, FunnelmetricsError, InputError, QueryError
from funnelmetrics.workspace import Workspace, open

__all__ = [
    "Config", "ConfigError", "Funnel", "FunnelmetricsError", "InputError", "Mode", "QueryError",
    "Workspace", "funnel_table", "open",
]


def __getattr__(name: str) -> Any:
    """`funnelmetrics.funnel_table(ws, ...)`: the funnel view, imported when first asked for."""
    if name == "funnel_table":
        from funnelmetrics.funnel import funnel_table

        return funnel_table
    raise AttributeError(f"module 'funnelmetrics' has no attribute {name!r}")
__version__ = "0.1.0"
