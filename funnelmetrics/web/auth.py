"""Who is asking: bearer tokens, the session cookie, CSRF tokens and each role's scope.

admin sees everything; a manager the rows of the reps of their team; a rep their own rows; a
viewer aggregates only. Scoping is a `where` on `rep_id` handed to the library, so metric,
funnel, rows and exports are limited the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from funnelmetrics.web.source import Session
from funnelmetrics.web.users import Role, User, check_token, credentials

SESSION_COOKIE = "fm_session"
CSRF_COOKIE = "fm_csrf"
SESSION_SECONDS = 12 * 3600
LOCAL = User("local", "local", Role.ADMIN)

bearer = HTTPBearer(auto_error=False, description="A token from `funnelmetrics user add`.")


@dataclass(frozen=True)
class Principal:
    """The caller: a user and, for reps and managers, the rep ids whose rows they may see."""

    user: User
    rep_ids: tuple[str, ...] | None = None  # None: not limited to reps
    via_cookie: bool = False

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def sees_rows(self) -> bool:
        return self.role is not Role.VIEWER

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def scope(self) -> dict[str, list[str]]:
        """The `where` that limits every query to the caller's rows ({} when unlimited)."""
        return {} if self.rep_ids is None else {"rep_id": list(self.rep_ids)}

    @property
    def key(self) -> tuple[str, ...] | None:
        return self.rep_ids


# ---- request state ----------------------------------------------------------------------------
async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's workspace session, closed when the response is done (no worker thread
    unless it opened a connection)."""
    session = request.app.state.source.session()
    try:
        yield session
    finally:
        await session.aclose()


def _known(session: Session) -> dict[str, tuple[User, str, str]]:
    return session.cached(("users",), credentials)


def _team_reps(session: Session, team: str) -> tuple[str, ...]:
    def compute(ws: Any) -> tuple[str, ...]:
        reps = ws.table("reps")
        df = reps.filter(reps.team == team).select("rep_id").execute()
        return tuple(sorted(str(v) for v in df.rep_id if v is not None))

    return session.cached(("team_reps", team), compute)


def principal_of(session: Session, user: User, *, via_cookie: bool = False) -> Principal:
    if user.role is Role.REP:
        return Principal(user, (user.rep_id or "",), via_cookie)
    if user.role is Role.MANAGER:
        return Principal(user, _team_reps(session, user.team or ""), via_cookie)
    return Principal(user, None, via_cookie)


async def optional_principal(request: Request, session: Session = Depends(get_session),
                             creds: HTTPAuthorizationCredentials | None = Depends(bearer),
                             ) -> Principal | None:
    """The caller from `Authorization: Bearer …` or the session cookie; None if neither.

    The users (and a manager's reps) are cached per version of the workspace file, so a user
    removed or added by the CLI counts from the next request on. A token is checked on every
    request (one sha256, microseconds): nothing about a token is remembered."""
    if not request.app.state.auth:
        return Principal(LOCAL)
    return await session.run(_principal, request, session, creds)


def _principal(request: Request, session: Session,
               creds: HTTPAuthorizationCredentials | None) -> Principal | None:
    if creds is not None:
        user = check_token(creds.credentials, _known(session))
        if user is None:
            raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})
        return principal_of(session, user)
    user_id = read_session_cookie(request)
    if user_id is not None:
        entry = _known(session).get(user_id)
        if entry is not None:
            return principal_of(session, entry[0], via_cookie=True)
    return None


async def current_principal(who: Principal | None = Depends(optional_principal)) -> Principal:
    """The caller, or 401."""
    if who is None:
        raise HTTPException(401, "authentication required: send `Authorization: Bearer TOKEN` "
                                 "(see `funnelmetrics user add`)",
                            headers={"WWW-Authenticate": "Bearer"})
    return who


async def rows_principal(who: Principal = Depends(current_principal)) -> Principal:
    """The caller, if their role may see rows (not viewers)."""
    if not who.sees_rows:
        raise HTTPException(403, "viewers see aggregates only, not rows")
    return who


async def admin_principal(who: Principal = Depends(current_principal)) -> Principal:
    if not who.is_admin:
        raise HTTPException(403, "only an admin may do this")
    return who


# ---- session cookie ---------------------------------------------------------------------------
def _sign(secret: bytes, payload: str) -> str:
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def session_cookie(secret: bytes, user_id: str, *, now: float | None = None) -> str:
    """A signed `user id|expiry|session id`; the session id is what logout revokes."""
    expires = int((now or time.time()) + SESSION_SECONDS)
    sid = secrets.token_urlsafe(16)
    payload = base64.urlsafe_b64encode(f"{user_id}|{expires}|{sid}".encode()).decode()
    return f"{payload}.{_sign(secret, payload)}"


@dataclass(frozen=True)
class CookieSession:
    user_id: str
    expires: int
    sid: str


def read_session(request: Request) -> CookieSession | None:
    """The session of a valid, unexpired and not logged-out session cookie."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value or "." not in value:
        return None
    payload, sig = value.rsplit(".", 1)
    if not hmac.compare_digest(_sign(request.app.state.secret, payload), sig):
        return None
    try:
        user_id, expires, sid = base64.urlsafe_b64decode(payload.encode()).decode().split("|")
        session = CookieSession(user_id, int(expires), sid)
    except (ValueError, UnicodeDecodeError):
        return None
    if session.expires < time.time() or request.app.state.source.revoked(sid):
        return None
    return session


def read_session_cookie(request: Request) -> str | None:
    """The user id of a valid, unexpired, not logged-out session cookie."""
    session = read_session(request)
    return None if session is None else session.user_id


def end_session(request: Request) -> None:
    """Log the request's session out for good: its cookie stops working at once, on every
    copy of it and after a restart (the session id is revoked until its expiry)."""
    session = read_session(request)
    if session is not None:
        request.app.state.source.revoke(session.sid, session.expires)


# ---- CSRF (double submit: a cookie and the same value in the form) ---------------------------
def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (a new one when it has none)."""
    return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "missing or wrong CSRF token (reload the page and try again)")


def set_cookie(response: Any, name: str, value: str, *, max_age: int = SESSION_SECONDS,
               secure: bool = False) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure, path="/")
