"""`serve` (the dashboard and REST API) and `user add|list|remove` (API tokens with a role)."""

from __future__ import annotations

import errno
import gc
import socket
from typing import Annotated

import typer

from funnelmetrics.cli.app import (
    DEFAULT_DB,
    DbOption,
    app,
    console,
    err_console,
    fail,
    handle_errors,
    open_workspace,
)

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
user_app = typer.Typer(help="API users: tokens with a role (admin, manager, rep, viewer).",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command("serve")
@handle_errors
def serve_cmd(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    no_auth: Annotated[bool, typer.Option(
        "--no-auth", help="Everyone is admin, no token (localhost only, for the demo).")] = False,
    warm: Annotated[bool, typer.Option(
        "--warm/--no-warm", help="Precompute the overview at startup and after every data "
                                 "change, so first visits are fast.")] = True,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="A host name browsers may use to reach the server besides "
                               "localhost and --host (repeatable; '*' allows any, which lets "
                               "DNS rebinding through).")] = None,
    max_rows: Annotated[int, typer.Option(
        "--max-rows", min=1, help="The most rows one metric answer may have.")] = 100_000,
) -> None:
    """The web dashboard and the REST API (/api/v1, docs at /api/docs)."""
    if no_auth and host not in LOCAL_HOSTS:
        fail(f"--no-auth is only allowed on localhost (127.0.0.1), not on {host}: anyone who "
             "can reach it would be admin. Add users with `funnelmetrics user add` instead.")
    sock = listen(host, port)  # a busy port is said now, before any URL is printed
    import uvicorn

    from funnelmetrics.web.app import create_app
    from funnelmetrics.web.users import list_users

    with open_workspace(db, read_only=True) as ws:
        users = list_users(ws)
    if not no_auth and not users:
        err_console.print("[yellow]No users yet:[/] add one with "
                          f"[bold]funnelmetrics user add NAME --role admin --db {db}[/] "
                          "(or use --no-auth on localhost).")
    application = create_app(db, auth=not no_auth, warm=warm,
                             hosts=[host, *(allowed_host or [])], max_rows=max_rows)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"funnelmetrics dashboard on [bold]http://{shown}:{port}[/] "
                  f"({'no auth' if no_auth else 'token auth'}); API docs at /api/docs")
    # Every object alive now (modules, the app) is exempt from the cyclic garbage collector: a
    # full collection walks them all (~0.2 s here) and stalls every request in flight.
    gc.collect()
    gc.freeze()
    config = uvicorn.Config(application, host=host, port=port, log_level="warning",
                            access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening, or one line saying the port is taken (and
    a free one nearby) or the address cannot be used."""
    from funnelmetrics.errors import ConfigError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: not an address this machine has ({exc.strerror})") \
            from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            free = next((p for p in range(port + 1, min(port + 50, 65536))
                         if _free(family, address, p)), None)
            hint = f"; try --port {free}" if free else ""
            raise ConfigError(f"port {port} on {host} is already in use (another server is "
                              f"running there){hint}") from None
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def _free(family: int, address: tuple, port: int) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address[0], port, *address[2:]))
        except OSError:
            return False
    return True


@user_app.command("add")
@handle_errors
def user_add_cmd(
    name: Annotated[str, typer.Argument(help="User name (unique).")],
    role: Annotated[str, typer.Option("--role", help="admin, manager, rep or viewer.")],
    rep_id: Annotated[str | None, typer.Option("--rep-id", help="A rep's rep_id.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="A manager's team.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create a user and print its token (the last line; it is shown only once)."""
    from funnelmetrics.web.users import add_user

    with open_workspace(db) as ws:
        user, token = add_user(ws, name, role, rep_id=rep_id, team=team)
    scope = f" rep_id={user.rep_id}" if user.rep_id else f" team={user.team}" if user.team else ""
    err_console.print(f"Created {user.role.value} [bold]{user.name}[/]{scope}. Token (shown "
                      "once; send it as `Authorization: Bearer TOKEN`):", highlight=False)
    print(token, flush=True)


@user_app.command("list")
@handle_errors
def user_list_cmd(db: DbOption = DEFAULT_DB) -> None:
    """The users of the workspace (never their tokens)."""
    from funnelmetrics.web.users import list_users

    with open_workspace(db, read_only=True) as ws:
        for u in list_users(ws):
            scope = u.rep_id or u.team or ""
            print(f"{u.name}\t{u.role.value}\t{scope}")


@user_app.command("remove")
@handle_errors
def user_remove_cmd(name: Annotated[str, typer.Argument(help="User name.")],
                    db: DbOption = DEFAULT_DB) -> None:
    """Remove a user (their token stops working)."""
    from funnelmetrics.web.users import remove_user

    with open_workspace(db) as ws:
        if not remove_user(ws, name):
            fail(f"no user named {name!r}")
    console.print(f"Removed {name}.")
