"""funnelmetrics: sales- and marketing-funnel metrics you can trust, from CRM, marketing and billing data."""

from __future__ import annotations

from funnelmetrics.config import Config, Funnel, Mode
from funnelmetrics.errors import ConfigError, FunnelmetricsError, InputError, QueryError
from funnelmetrics.workspace import Workspace, open

__all__ = [
    "Config", "ConfigError", "Funnel", "FunnelmetricsError", "InputError", "Mode", "QueryError",
    "Workspace", "open",
]
__version__ = "0.1.0"
