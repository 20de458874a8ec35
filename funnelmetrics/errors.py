"""Errors a user can cause. The CLI prints their message on one line and exits non-zero."""

from __future__ import annotations


class FunnelmetricsError(Exception):
    """Base of every error caused by input, configuration or a query (never a bug)."""


class ConfigError(FunnelmetricsError):
    """`funnelmetrics.toml` or a setting is wrong."""


class InputError(FunnelmetricsError):
    """A file cannot be loaded at all (missing column, not UTF-8, wrong delimiter, truncated)."""


class QueryError(FunnelmetricsError):
    """A metric query names an unknown metric, dimension, parameter or a bad date."""
