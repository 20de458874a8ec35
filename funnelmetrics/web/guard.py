"""Requests from the right place: a Host allow-list (against DNS rebinding) and, for every
state-changing request, an Origin (or Referer) that is the server's own (against cross-site
writes such as a `fetch(…, {mode: 'no-cors'})` from another page). Both hold in every mode,
`--no-auth` included, as defence in depth beside tokens and CSRF tokens.

A client that sends neither Origin nor Referer (curl, a script with a token) is not a browser
acting for another site, so it passes the origin check; the Host check applies to everyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Loopback names, and the name in-process test clients (httpx's ASGI transport, Starlette's
# TestClient) send: it never comes from a browser's address bar.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "testserver")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
DEFAULT_PORTS = {"http": 80, "https": 443}
# On every response: never framed (clickjacking), types not sniffed, no URL sent to other sites.
SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'; object-src 'none'; base-uri 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


# A directory of the server's file system inside a message (`/srv/data/`, `C:\\data\\`), a
# process id (DuckDB's lock errors) or SQL text after "SQL:" / "LINE n:".
_DIRECTORY = re.compile(r"(?<![\w:/.])(?!/api/)(?:/[^\s/'\"`()]+)+/(?=[^\s/])|\b[A-Za-z]:\\(?:[^\s\\'\"]+\\)*")
_PID = re.compile(r"\s*\(?\bPID\s*\d+\)?", re.IGNORECASE)
_SQL = re.compile(r"\s*(?:\bLINE \d+:|\bSQL:).*$", re.DOTALL)


def public_message(message: str) -> str:
    """A message fit for a client: its first line, without the directories of server paths (a
    file keeps its name: `leads.csv: …`), process ids or SQL."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return _PID.sub("", _SQL.sub("", _DIRECTORY.sub("", first))).strip()


def host_name(host: str) -> str:
    """The name of a Host header or netloc, without its port and brackets, lowercased."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _port(scheme: str, netloc: str) -> int | None:
    """The explicit port of a netloc (None: the scheme's default; -1: not a port)."""
    try:
        return urlsplit(f"{scheme}://{netloc}").port
    except ValueError:
        return -1


def same_origin(origin: str, host: str) -> bool:
    """Whether an Origin/Referer URL names the host (and port) the request was sent to. The
    scheme is not compared: behind a TLS proxy the server sees http where the browser says
    https; a port is, so another site on the same name (localhost:3000) is not this one."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        return False
    if host_name(parts.netloc) != host_name(host):
        return False
    theirs = _port(parts.scheme, parts.netloc) or DEFAULT_PORTS[parts.scheme]
    ours = _port("http", host)
    return theirs in DEFAULT_PORTS.values() if ours is None else theirs == ours


def allowed_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """The loopback names plus `extra` (the bound address, `--allowed-host`), names only."""
    return frozenset({*LOOPBACK_HOSTS, *(host_name(h) for h in extra if h)})


class RequestGuard:
    """ASGI middleware: 400 for a Host not allowed, 403 for a cross-origin write, and the
    `SECURITY_HEADERS` on every response."""

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str]) -> None:
        self.app = app
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        problem = self.problem(scope, headers)
        if problem is None:
            await self.app(scope, receive, secured)
            return
        from starlette.responses import JSONResponse

        status, detail = problem
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, secured)

    def problem(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        host = headers.get("host", "")
        if "*" not in self.hosts and host_name(host) not in self.hosts:
            return 400, (f"host {host_name(host)!r} is not allowed: open the dashboard at one of "
                         f"{', '.join(sorted(self.hosts))} (or start it with --allowed-host)")
        if scope.get("method", "GET").upper() in SAFE_METHODS:
            return None
        origin = headers.get("origin", headers.get("referer"))
        if origin is not None and not same_origin(origin, host):
            return 403, ("cross-site request refused: a change must come from this server's "
                         "own pages (Origin/Referer is not this server)")
        return None
