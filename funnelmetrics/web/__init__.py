"""The web dashboard and REST API (SPEC §4 "Dashboard", "Access"; §5 REST).

`create_app(db_path, auth=True)` builds the FastAPI application; `funnelmetrics serve` runs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app(db_path: Any, *, auth: bool = True, secret: bytes | None = None,
               warm: bool = False) -> FastAPI:
    """The dashboard and API over the workspace at `db_path` (see `funnelmetrics.web.app`)."""
    from funnelmetrics.web.app import create_app as build

    return build(db_path, auth=auth, secret=secret, warm=warm)


__all__ = ["create_app"]
