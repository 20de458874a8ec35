"""API users (SPEC §4 "Access"): tokens with a role, stored salted and hashed in `_users`.

A token reads `fm_<user id>_<secret>`; only sha256(salt + secret) is stored, so a copy of the
workspace file does not leak working tokens. On DuckDB the table is written with SQL; on an
engine (Spark, PostgreSQL) through its all-or-nothing table write (`engines.*.replace_tables`):
a user is one appended row, a removal rewrites the (small) table without it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from funnelmetrics.errors import ConfigError

if TYPE_CHECKING:
    from funnelmetrics.workspace import Workspace

USERS_TABLE = "_users"
_COLUMNS = ("user_id", "name", "role", "rep_id", "team", "salt", "token_hash", "created_at")
SCHEMA = {**{c: "string" for c in _COLUMNS[:-1]}, "created_at": "timestamp"}


class Role(StrEnum):
    ADMIN = "admin"  # everything, including uploads
    MANAGER = "manager"  # rows of the reps of their team
    REP = "rep"  # their own rows only
    VIEWER = "viewer"  # aggregates only, no rows


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: Role
    rep_id: str | None = None
    team: str | None = None


def _hash(salt: str, secret: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def ensure_table(ws: Workspace) -> None:
    if not ws.is_duckdb:
        if not ws.has_table(USERS_TABLE):
            ws.engine.create_table(ws.con, USERS_TABLE, SCHEMA)
        return
    ws.raw_sql(f'CREATE TABLE IF NOT EXISTS "{USERS_TABLE}" (user_id VARCHAR PRIMARY KEY, '
               "name VARCHAR UNIQUE NOT NULL, role VARCHAR NOT NULL, rep_id VARCHAR, "
               "team VARCHAR, salt VARCHAR NOT NULL, token_hash VARCHAR NOT NULL, "
               "created_at TIMESTAMP)")


def add_user(ws: Workspace, name: str, role: Role | str, *, rep_id: str | None = None,
             team: str | None = None) -> tuple[User, str]:
    """Create a user; returns it and its token (shown once, never stored)."""
    role = _role(role)
    name = name.strip()
    if not name:
        raise ConfigError("a user needs a name")
    if role is Role.REP and not rep_id:
        raise ConfigError("a rep needs --rep-id (the rep_id their rows carry)")
    if role is Role.MANAGER and not team:
        raise ConfigError("a manager needs --team (the team of reps they manage)")
    if role not in (Role.REP, Role.MANAGER) and (rep_id or team):
        raise ConfigError(f"--rep-id and --team are for reps and managers, not {role.value}s")
    if role is Role.REP and team:
        raise ConfigError("a rep takes --rep-id, not --team")
    if role is Role.MANAGER and rep_id:
        raise ConfigError("a manager takes --team, not --rep-id")
    ensure_table(ws)
    if any(u.name == name for u in list_users(ws)):
        raise ConfigError(f"user {name!r} exists already (remove it first to issue a new token)")
    user = User(secrets.token_hex(6), name, role, rep_id or None, team or None)
    secret, salt = secrets.token_urlsafe(32), secrets.token_hex(16)
    row = [user.user_id, user.name, user.role.value, user.rep_id, user.team, salt,
           _hash(salt, secret), dt.datetime.now(dt.UTC).replace(tzinfo=None)]
    if ws.is_duckdb:
        ws.duckdb.execute(f'INSERT INTO "{USERS_TABLE}" VALUES (?, ?, ?, ?, ?, ?, ?, ?)', row)
    else:
        ws.engine.replace_tables(ws.con, {}, {USERS_TABLE: _arrow([row])})
        ws.forget()
    return user, f"fm_{user.user_id}_{secret}"


def remove_user(ws: Workspace, name: str) -> bool:
    if not ws.has_table(USERS_TABLE):
        return False
    records = _records(ws)
    found = any(u.name == name for u, _, _ in records)
    if ws.is_duckdb:
        ws.duckdb.execute(f'DELETE FROM "{USERS_TABLE}" WHERE name = ?', [name])
    elif found:
        kept = ws.table(USERS_TABLE).select(*_COLUMNS).filter(lambda t: t.name != name)
        ws.engine.replace_tables(ws.con, {USERS_TABLE: _arrow(
            [list(r.values()) for r in kept.to_pyarrow().to_pylist()])}, {})
        ws.forget()
    return found


def _arrow(rows: list[list[object]]) -> object:
    """Rows of the users table as an Arrow table of its columns and types."""
    import pyarrow as pa

    types = {"string": pa.string(), "timestamp": pa.timestamp("us")}
    return pa.Table.from_arrays(
        [pa.array([r[i] for r in rows], types[SCHEMA[c]]) for i, c in enumerate(_COLUMNS)],
        names=list(_COLUMNS))


def list_users(ws: Workspace) -> list[User]:
    return [u for u, _, _ in _records(ws)]


def _records(ws: Workspace) -> list[tuple[User, str, str]]:
    if not ws.has_table(USERS_TABLE):
        return []
    df = ws.table(USERS_TABLE).select(*_COLUMNS).order_by("created_at").execute()
    return [(User(r.user_id, r.name, Role(r.role), _text(r.rep_id), _text(r.team)), r.salt,
             r.token_hash) for r in df.itertuples()]


def credentials(ws: Workspace) -> dict[str, tuple[User, str, str]]:
    """user id → (user, salt, token hash), for checking tokens without the database."""
    return {u.user_id: (u, salt, digest) for u, salt, digest in _records(ws)}


def check_token(token: str, known: dict[str, tuple[User, str, str]]) -> User | None:
    """The user a token belongs to, or None (constant-time comparison of the hash)."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != "fm":
        return None
    entry = known.get(parts[1])
    if entry is None:
        return None
    user, salt, digest = entry
    return user if hmac.compare_digest(_hash(salt, parts[2]), digest) else None


def _role(role: Role | str) -> Role:
    try:
        return Role(str(role).lower())
    except ValueError:
        raise ConfigError(f"role must be one of {', '.join(r.value for r in Role)}, "
                          f"not {role!r}") from None


def _text(value: object) -> str | None:
    return None if value is None or value != value else str(value)
