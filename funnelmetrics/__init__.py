"""funnelmetrics: sales- and marketing-funnel metrics you can trust, from CRM, marketing and billing data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from funnelmetrics import lazyibis
from funnelmetrics.errors import ConfigError, FunnelmetricsError, InputError, QueryError

lazyibis.install()  # Ibis's SQL compilers imported one by one, when used

if TYPE_CHECKING:
    from funnelmetrics.config import Config, Funnel, Mode
    from funnelmetrics.funnel import funnel_table
    from funnelmetrics.workspace import Workspace, open

__all__ = [
    "Config", "ConfigError", "Funnel", "FunnelmetricsError", "InputError", "Mode", "QueryError",
    "Workspace", "funnel_table", "open",
]


def __getattr__(name: str) -> Any:
    """The workspace, settings and funnel view, imported when first asked for: `import
    funnelmetrics` (and so `funnelmetrics --help`) does not load Ibis, pandas or pydantic."""
    if name in ("Workspace", "open"):
        from funnelmetrics import workspace

        return getattr(workspace, name)
    if name in ("Config", "Funnel", "Mode"):
        from funnelmetrics import config

        return getattr(config, name)
    if name == "funnel_table":
        from funnelmetrics.funnel import funnel_table

        return funnel_table
    raise AttributeError(f"module 'funnelmetrics' has no attribute {name!r}")
__version__ = "0.1.0"
