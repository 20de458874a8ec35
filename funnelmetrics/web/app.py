"""The FastAPI application: REST API, dashboard pages, static files and error handling.

A user's mistake is a 4xx with `{"detail": "..."}` (a page for the browser), never a 500.
"""

from __future__ import annotations

import gzip
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import anyio
import duckdb
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

import funnelmetrics
from funnelmetrics.errors import FunnelmetricsError, QueryError
from funnelmetrics.web import api, api_forecast, api_insights, kept, pages
from funnelmetrics.web.guard import RequestGuard, allowed_hosts, public_message
from funnelmetrics.web.service import MAX_ROWS
from funnelmetrics.web.source import Source, WorkspaceBusy
from funnelmetrics.web.warm import Warmer

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("funnelmetrics.web")
ONE_WEEK = "public, max-age=604800"


def create_app(db_path: str | Path, *, auth: bool = True, secret: bytes | None = None,
               warm: bool = False, hosts: Iterable[str] = (),
               max_rows: int = MAX_ROWS) -> FastAPI:
    """The dashboard and REST API over the workspace at `db_path`.

    `auth=False` lets everyone in as admin (the CLI allows it on localhost only). `secret` signs
    session cookies (default: $FUNNELMETRICS_SECRET, else random per process). `warm` computes
    the overview in the background at startup and after every change of the workspace file.
    `hosts` are the Host names allowed besides loopback ones ("*": any); a state-changing
    request must come from the server's own origin (`guard`). `max_rows` caps an answer.
    """
    source = Source(db_path)
    source.max_rows = max_rows

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warmer = Warmer(source, warm=warm)  # reads the kept results first (`web.kept`)
        app.state.warmer = warmer
        warmer.start()
        yield
        warmer.stop()
        await anyio.to_thread.run_sync(kept.save, source)  # for the next server on this data

    app = FastAPI(lifespan=lifespan, title="funnelmetrics", version=funnelmetrics.__version__,
                  description="Sales- and marketing-funnel metrics: the metric catalogue, the "
                              "funnel, attribution and the rows behind every number. Send "
                              "`Authorization: Bearer TOKEN` (`funnelmetrics user add`).",
                  docs_url="/api/docs", redoc_url=None, openapi_url="/api/v1/openapi.json")
    app.state.source = source
    app.state.auth = auth
    env = os.environ.get("FUNNELMETRICS_SECRET")
    app.state.secret = secret or (env.encode() if env else secrets.token_bytes(32))
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(RequestGuard, hosts=allowed_hosts(hosts))
    _handlers(app)
    app.include_router(api.router)
    app.include_router(api_forecast.router)
    app.include_router(api_insights.router)
    app.add_api_route("/static/vendor/plotly.min.js", plotly_js, methods=["GET"],
                      include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    return app


@cache
def _plotly() -> tuple[bytes, bytes]:
    """plotly.min.js of the installed plotly package (no CDN), plain and gzipped."""
    body = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return body, gzip.compress(body, 6)


def plotly_js(request: Request) -> Response:
    body, packed = _plotly()
    headers = {"Cache-Control": ONE_WEEK, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = packed
    return Response(body, media_type="text/javascript", headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, detail: str,
           headers: dict[str, str] | None = None) -> Response:
    if _is_api(request) or request.method != "GET":
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    return pages.render(request, "error.html", None, None, None, page="error", status=status,
                        detail=detail, status_code=status)


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = public_message(str(exc.detail)) if exc.status_code < 500 else "server error"
        return _error(request, exc.status_code, detail, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return _error(request, 422, f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(WorkspaceBusy)
    async def busy(request: Request, exc: WorkspaceBusy) -> Response:
        return _error(request, 503, str(exc), {"Retry-After": "1"})

    @app.exception_handler(FunnelmetricsError)
    async def user_error(request: Request, exc: FunnelmetricsError) -> Response:
        message = public_message(str(exc)) or type(exc).__name__
        status = 404 if isinstance(exc, QueryError) and message.startswith("unknown metric") \
            else 400
        return _error(request, status, message)

    @app.exception_handler(duckdb.Error)
    async def database_error(request: Request, exc: duckdb.Error) -> Response:
        # the database's own message may hold SQL, file paths or a PID: logged, not shown
        log.warning("database error on %s: %s", request.url.path, exc)
        return _error(request, 400, "the database could not run this query "
                                    f"({type(exc).__name__})")

    @app.exception_handler(HTTPException)
    async def fastapi_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)
