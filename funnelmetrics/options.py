"""Options as the command line and the REST API spell them, parsed without the heavy modules
(the command line answers a kept query before it loads Ibis)."""

from __future__ import annotations

from typing import Any

from funnelmetrics.errors import QueryError


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, Any]:
    """`KEY=VALUE` options into a dict; a repeated key collects a list."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError(f"{what} takes KEY=VALUE, not {pair!r}")
        key, value = key.strip(), value.strip()
        if key in out:
            out[key] = [*(out[key] if isinstance(out[key], list) else [out[key]]), value]
        else:
            out[key] = value
    return out
